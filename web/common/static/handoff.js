// Submits the hand-off form on load, so the person arrives at their portal already signed in.
// Without JavaScript the visible Continue button does the same. Static file: no inline script (CSP).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("handoff-form");
  if (form && form.getAttribute("data-auto-submit") === "true") {
    form.submit();
  }
});
