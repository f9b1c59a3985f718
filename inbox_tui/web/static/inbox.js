// The page around the terminal: the sign-out key and the "start again" button.
// No inline scripts anywhere, so the Content-Security-Policy can forbid them.
"use strict";
window.addEventListener("keydown", (event) => {
  // Alt+Shift+Q signs out; caught before the terminal sees it.
  if (event.altKey && event.shiftKey && event.code === "KeyQ") {
    event.preventDefault();
    event.stopPropagation();
    const form = document.getElementById("sign-out");
    if (form) form.submit();
  }
}, true);
document.addEventListener("DOMContentLoaded", () => {
  const again = document.getElementById("again");
  if (again) again.addEventListener("click", () => window.location.reload());
});
