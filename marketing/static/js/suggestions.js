// The suggestions page: "select all on this page" ticks the page's rows (the page works without it).
document.querySelectorAll('[data-select-all]').forEach(function (box) {
  box.addEventListener('change', function () {
    document.querySelectorAll('input[name="ids"]').forEach(function (b) { b.checked = box.checked; });
  });
});
