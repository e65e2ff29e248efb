// Passkeys and security keys: completes the passkey forms of the sign-in, code step and Security pages with
// @simplewebauthn/browser (static/vendor). Those forms sit in blocks marked data-passkey, hidden until this script
// finds a browser that can use passkeys; without JavaScript nobody sees them and every page works as before (a
// note marked data-passkey-without-script says where JavaScript is needed; this script hides it).
// The words shown come from the page (data-cancelled, the server's JSON), none from here.
(function () {
  "use strict";
  var lib = window.SimpleWebAuthnBrowser;

  function supported() {
    return Boolean(lib) && lib.browserSupportsWebAuthn();
  }

  function reveal() {
    var can = supported();
    document.querySelectorAll("[data-passkey]").forEach(function (block) { block.hidden = !can; });
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (note) { note.hidden = can; });
    document.querySelectorAll("[data-passkey-without-script]").forEach(function (note) { note.hidden = true; });
  }

  function say(form, text) {
    var message = form.querySelector("[data-passkey-message]");
    message.textContent = text || "";
    message.hidden = !text;
  }

  // The options come by POST (CSRF token and, when registering, the name from the form itself); a redirect (the
  // sign-in has ended, say) is not followed here: the page is loaded again and says what happened.
  function fetchOptions(form) {
    return fetch(form.getAttribute("data-options"), {
      method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      redirect: "manual", headers: {"Accept": "application/json"}
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json) {
        window.location.reload();
        return null;
      }
      return response.json().then(function (body) {
        if (response.ok) {
          return body;
        }
        if (body.reload) {
          window.location.reload();
        } else {
          say(form, body.error);
        }
        return null;
      });
    });
  }

  function ceremony(form, options) {
    var register = form.getAttribute("data-passkey-form") === "register";
    return register ? lib.startRegistration({optionsJSON: options}) : lib.startAuthentication({optionsJSON: options});
  }

  function start(form, button) {
    say(form, "");
    button.disabled = true;
    fetchOptions(form).then(function (options) {
      if (!options) {
        return;
      }
      return ceremony(form, options).then(function (answer) {
        form.querySelector("input[name=credential]").value = JSON.stringify(answer);
        form.submit();
      }, function () {
        say(form, form.getAttribute("data-cancelled"));
      });
    }).catch(function () {
      say(form, form.getAttribute("data-cancelled"));
    }).finally(function () {
      button.disabled = false;
    });
  }

  // Submitting a passkey form (its button, or Enter in the name field) runs the ceremony first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-passkey-form") || form.querySelector("input[name=credential]").value) {
      return;
    }
    event.preventDefault();
    if (supported()) {
      start(form, form.querySelector("button[type=submit]"));
    }
  });
  document.addEventListener("DOMContentLoaded", reveal);
  document.addEventListener("htmx:afterSwap", reveal);  // the code step swapped in after the password
})();
