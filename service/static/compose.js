// The post composer's photos: a preview of each chosen photo, and one empty slot at a time
// instead of all four. Without this script the four slots simply all show.
"use strict";

(function () {
  // The server's limit per photo; checked here too so nobody waits for a refused upload.
  const MAX_PHOTO_BYTES = 20 * 1024 * 1024;

  function setupComposer(form) {
    const slots = Array.from(form.querySelectorAll("[data-photo-slot]"));
    const fileInput = (slot) => slot.querySelector('input[type="file"]');

    // Chosen photos and the first empty slot show; the other empty slots wait.
    function showSlots() {
      let emptyShown = false;
      for (const slot of slots) {
        const input = fileInput(slot);
        if (input.files && input.files.length > 0) {
          slot.hidden = false;
        } else {
          slot.hidden = emptyShown;
          emptyShown = true;
        }
      }
    }

    function showPreview(slot, number) {
      const input = fileInput(slot);
      const preview = slot.querySelector(".photo-preview");
      const file = input.files && input.files[0];
      preview.hidden = true;
      preview.removeAttribute("src");
      input.setCustomValidity("");
      if (!file) return;
      if (file.size > MAX_PHOTO_BYTES) {
        input.setCustomValidity("This photo is larger than 20 MB.");
        input.reportValidity();
        return;
      }
      // A data: URL, because the Content-Security-Policy allows no blob: images.
      const reader = new FileReader();
      reader.addEventListener("load", () => {
        preview.src = reader.result;
        preview.alt = "Preview of photo " + number;
        preview.hidden = false;
      });
      reader.readAsDataURL(file);
    }

    slots.forEach((slot, index) => {
      fileInput(slot).addEventListener("change", () => {
        showPreview(slot, index + 1);
        showSlots();
      });
    });
    showSlots();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll(".compose-form")) setupComposer(form);
  });
})();
