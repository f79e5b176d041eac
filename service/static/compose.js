// The post composer's photos: chosen with the file input (several at once), dropped on the
// form or pasted into it, shown as previews to put in order, remove and describe, checked
// for type and size before anything is sent, and uploaded with a progress bar. Without this
// script the form posts as it is: one file input and four alt fields, paired in order.
"use strict";

(function () {
  // The server's limits (service/web/uploads.py, service/domain/posts.py), checked here
  // too so nobody waits for an upload that would be refused.
  const MAX_PHOTOS = 4;
  const MAX_PHOTO_BYTES = 20 * 1024 * 1024;
  const PHOTO_TYPES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif"]);

  let nextId = 0;

  function setupComposer(form) {
    const input = form.querySelector(".photo-input");
    const list = form.querySelector("[data-photo-cards]");
    const cardTemplate = form.querySelector("template[data-photo-card]");
    const status = form.querySelector("[data-compose-status]");
    const error = form.querySelector("[data-compose-error]");
    const progressBox = form.querySelector("[data-upload-progress]");
    const progress = progressBox && progressBox.querySelector("progress");
    const submit = form.querySelector('button[type="submit"]');
    if (!input || !list || !cardTemplate || !status || !error || !progress || !submit) return;

    // What this script says, from the form, in the page's language: "%(name)s" in them
    // stands for a value put in here.
    const words = form.dataset;
    const plurals = new Intl.PluralRules(document.documentElement.lang || "en");
    function fill(text, values) {
      return (text || "").replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
    }

    // The photos in the order they will be posted: {file, card}.
    const photos = [];
    let sending = false;

    function say(message) {
      status.textContent = message;
    }

    function showError(message) {
      error.textContent = message;
      error.hidden = !message;
    }

    function plural(count) {
      return fill(plurals.select(count) === "one" ? words.photoOne : words.photoOther, { num: count });
    }

    function describe(file) {
      return file.name ? "\u201c" + file.name + "\u201d" : words.pastedFile;
    }

    // Why this file cannot be posted, or "" when it can.
    function refusal(file) {
      if (!PHOTO_TYPES.has(file.type)) {
        return fill(words.notAPhoto, { file: describe(file) });
      }
      if (file.size > MAX_PHOTO_BYTES) {
        return fill(words.tooLarge, { file: describe(file), size: MAX_PHOTO_BYTES / (1024 * 1024) });
      }
      if (file.size === 0) return fill(words.empty, { file: describe(file) });
      return "";
    }

    function renumber() {
      const count = photos.length;
      photos.forEach((photo, index) => {
        const card = photo.card;
        for (const number of card.querySelectorAll("[data-number]")) {
          number.textContent = String(index + 1);
        }
        card.querySelector('[data-move="-1"]').disabled = index === 0;
        card.querySelector('[data-move="1"]').disabled = index === count - 1;
      });
      list.hidden = count === 0;
    }

    function updateWarning(photo) {
      const field = photo.card.querySelector("[data-alt]");
      const warning = photo.card.querySelector("[data-alt-warning]");
      const missing = field.value.trim() === "";
      warning.hidden = !missing;
      if (missing) field.setAttribute("aria-describedby", warning.id);
      else field.removeAttribute("aria-describedby");
    }

    function makeCard(file) {
      const card = cardTemplate.content.firstElementChild.cloneNode(true);
      const id = "compose-photo-" + nextId++;
      const field = card.querySelector("[data-alt]");
      field.id = id + "-alt";
      card.querySelector("[data-alt-label]").htmlFor = field.id;
      card.querySelector("[data-alt-warning]").id = id + "-warning";
      card.querySelector("[data-file-name]").textContent = file.name || words.pastedName;
      // A data: URL, because the Content-Security-Policy allows no blob: images.
      const preview = card.querySelector(".photo-preview");
      const reader = new FileReader();
      reader.addEventListener("load", () => {
        preview.src = reader.result;
      });
      reader.readAsDataURL(file);
      return card;
    }

    function addFiles(files) {
      if (sending) return;
      const refused = [];
      let added = 0;
      for (const file of files) {
        const reason = refusal(file);
        if (reason) {
          refused.push(reason);
        } else if (photos.length >= MAX_PHOTOS) {
          refused.push(fill(words.tooMany, { max: MAX_PHOTOS, file: describe(file) }));
        } else {
          const photo = { file: file, card: makeCard(file) };
          photos.push(photo);
          list.append(photo.card);
          updateWarning(photo);
          added += 1;
        }
      }
      renumber();
      showError(refused.join(" "));
      if (added) say(fill(words.added, { added: plural(added), photos: plural(photos.length) }));
      else if (!refused.length) say("");
    }

    function indexOf(card) {
      return photos.findIndex((photo) => photo.card === card);
    }

    function move(card, step, button) {
      const from = indexOf(card);
      const to = from + step;
      if (from < 0 || to < 0 || to >= photos.length) return;
      const [photo] = photos.splice(from, 1);
      photos.splice(to, 0, photo);
      const next = photos[to + 1];
      list.insertBefore(card, next ? next.card : null);
      renumber();
      // Moving the card took the focus away; it stays with the card, on the same button
      // unless that one can go no further.
      (button.disabled ? card.querySelector('[data-move="' + -step + '"]') : button).focus();
      say(fill(words.moved, { n: to + 1, total: photos.length }));
    }

    function remove(card) {
      const index = indexOf(card);
      if (index < 0) return;
      photos.splice(index, 1);
      card.remove();
      renumber();
      // The focus goes to the photo that took its place, or the one before, or the picker.
      const neighbour = photos[Math.min(index, photos.length - 1)];
      if (neighbour) neighbour.card.querySelector("[data-remove]").focus();
      else input.focus();
      say(fill(words.removed, { photos: plural(photos.length) }));
      showError("");
    }

    input.addEventListener("change", () => {
      addFiles(Array.from(input.files || []));
      // Emptied, so the same file can be chosen again and nothing is sent twice.
      input.value = "";
    });

    list.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || sending) return;
      const card = button.closest(".photo-card");
      if (button.hasAttribute("data-remove")) remove(card);
      else if (button.dataset.move) move(card, Number(button.dataset.move), button);
    });

    list.addEventListener("input", (event) => {
      if (!event.target.matches("[data-alt]")) return;
      const index = indexOf(event.target.closest(".photo-card"));
      if (index >= 0) updateWarning(photos[index]);
    });

    function carriesFiles(event) {
      return event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files");
    }

    form.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("compose-dragging");
    });
    form.addEventListener("dragleave", (event) => {
      if (!form.contains(event.relatedTarget)) form.classList.remove("compose-dragging");
    });
    form.addEventListener("drop", (event) => {
      form.classList.remove("compose-dragging");
      if (!carriesFiles(event)) return;
      event.preventDefault();
      addFiles(Array.from(event.dataTransfer.files));
    });
    // Only a paste that holds files is taken; pasted text goes where it always went.
    form.addEventListener("paste", (event) => {
      const files = Array.from((event.clipboardData && event.clipboardData.files) || []);
      if (!files.length) return;
      event.preventDefault();
      addFiles(files);
    });

    function serverMessage(xhr) {
      const page = xhr.response;
      const found =
        page &&
        page.querySelector &&
        (page.querySelector("#error-photos, #error-body") || page.querySelector("main p"));
      const text = found ? found.textContent.trim() : "";
      return text || fill(words.refused, { status: xhr.status });
    }

    function finishSending() {
      sending = false;
      progressBox.hidden = true;
      submit.disabled = false;
    }

    // Back from the new post to a page kept whole by the browser: that post is made, so
    // the form starts afresh rather than stay sending.
    window.addEventListener("pageshow", (event) => {
      if (!event.persisted || !sending) return;
      finishSending();
      for (const photo of photos.splice(0)) photo.card.remove();
      renumber();
      form.reset();
      say("");
    });

    form.addEventListener("submit", (event) => {
      // A post without photos goes as the plain form does.
      if (!photos.length) return;
      event.preventDefault();
      if (sending) return;
      const data = new FormData();
      // The server reads the token first, before the body it streams.
      data.append("csrf_token", form.elements.csrf_token.value);
      data.append("body", form.elements.body.value);
      if (form.elements.audience) data.append("audience", form.elements.audience.value);
      for (const photo of photos) {
        data.append("photos", photo.file, photo.file.name || "pasted-image");
        data.append("alt", photo.card.querySelector("[data-alt]").value);
      }
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      xhr.setRequestHeader("Accept", "text/html");
      xhr.upload.addEventListener("progress", (progressEvent) => {
        if (progressEvent.lengthComputable) {
          progress.value = Math.round((100 * progressEvent.loaded) / progressEvent.total);
        }
      });
      xhr.upload.addEventListener("load", () => {
        progress.value = 100;
        say(words.sent);
      });
      xhr.addEventListener("load", () => {
        if (xhr.status < 400) {
          // The server redirected to the new post, which the request followed.
          say(words.posted);
          window.location.assign(xhr.responseURL || form.action);
          return;
        }
        finishSending();
        say("");
        showError(serverMessage(xhr));
      });
      xhr.addEventListener("error", () => {
        finishSending();
        say("");
        showError(words.broken);
      });
      sending = true;
      submit.disabled = true;
      progress.value = 0;
      progressBox.hidden = false;
      showError("");
      say(fill(words.uploading, { photos: plural(photos.length) }));
      xhr.send(data);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll(".compose-form")) setupComposer(form);
  });
})();
