// Small enhancements only; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.classList.add("js");
  document.body.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
});
// After htmx swaps in a sign-in step, move focus as a page load would: to the first field with an error,
// or else to the step's heading.
document.addEventListener("htmx:afterSwap", function () {
  var step = document.getElementById("auth-step");
  if (!step) {
    return;
  }
  var target = step.querySelector('[aria-invalid="true"]') || step.querySelector("h1");
  if (target && target.tagName === "H1") {
    target.setAttribute("tabindex", "-1");
  }
  if (target) {
    target.focus();
  }
});
