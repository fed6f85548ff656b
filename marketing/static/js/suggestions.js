// "Select all" on the bid suggestions page.
document.querySelectorAll('[data-select-all]').forEach(function (box) {
  box.addEventListener('change', function () {
    document.querySelectorAll('input[name="ids"]').forEach(function (b) { b.checked = box.checked; });
  });
});
