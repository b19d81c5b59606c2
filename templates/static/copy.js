// Møteplass: the "copy" button beside a calendar feed's address. Without
// script (or without the clipboard) the address stays a read-only field
// to select and copy by hand; the button only appears where it works.
(function () {
  if (!navigator.clipboard || !window.isSecureContext) return;
  document.querySelectorAll("button.copy-button[data-copy]").forEach(function (b) {
    var field = document.getElementById(b.getAttribute("data-copy"));
    if (!field) return;
    var status = b.closest("section") && b.closest("section").querySelector(".copy-status");
    b.hidden = false;
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = b.getAttribute("data-copied");
      }, function () {
        field.select();
      });
    });
  });
})();
