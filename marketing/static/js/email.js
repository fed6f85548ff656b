// Email preferences: an empty time zone field takes the browser's (saved with the form).
document.querySelectorAll("[data-browser-timezone]").forEach(function (input) {
  if (!input.value && window.Intl) {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }
});
