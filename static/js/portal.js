// Small enhancements only; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.classList.add("js");
  focusFirstProblem(document);
  // A change kept while the person confirmed it was them: sent on at once (without JavaScript: a button).
  var kept = document.querySelector("form[data-auto-submit]");
  if (kept) {
    kept.submit();
  }
  document.body.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
    var copy = event.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      var id = copy.getAttribute("data-copy");
      navigator.clipboard.writeText(document.getElementById(id).textContent.replace(/\s+/g, "")).then(function () {
        document.querySelector('[data-copied="' + id + '"]').hidden = false;
      });
    }
  });
});

// A page with an error summary: focus it, so that screen readers read what is wrong (the GOV.UK way).
function focusFirstProblem(root) {
  var summary = root.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
  return summary;
}

// A notice above a sign-in step belongs to the step it came with: a new step swapped in replaces it.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.target && event.detail.target.id === "auth-step") {
    document.querySelectorAll("#main > .notice").forEach(function (notice) { notice.remove(); });
  }
});

// After htmx swaps in a sign-in step, move focus as a page load would: to the error summary, or else to the
// step's first field (the code to enter), or its heading.
document.addEventListener("htmx:afterSwap", function () {
  var step = document.getElementById("auth-step");
  if (!step || focusFirstProblem(step)) {
    return;
  }
  var target = step.querySelector("input:not([type=hidden])") || step.querySelector("h1");
  if (target && target.tagName === "H1") {
    target.setAttribute("tabindex", "-1");
  }
  if (target) {
    target.focus();
  }
});
