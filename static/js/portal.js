// Small enhancements only; every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.classList.add("js");
  document.body.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
});
