// Suggestions of people to mention, under the composer's and the comment form's textarea.
//
// While the caret is in an "@name" that the server would take for a mention (as
// service/discovery.py finds them: not inside a word, not after a character that joins it
// to what comes before, not inside a URL), the people whose names match are asked for and
// shown in the listbox the server rendered under the textarea (templates/_forms.html).
// The textarea is wired to it as ARIA's combobox pattern wires an editable text field:
// aria-autocomplete="list", aria-controls and aria-activedescendant. It keeps its implicit
// role: ARIA in HTML allows a <textarea> no other role, and a textbox no aria-expanded, so
// whether the list is open is told by the live region beside it ("3 people to mention").
// ArrowDown and ArrowUp move through the people, Enter or Tab puts "@username " in place of
// what was typed, Escape closes the list and changes nothing; a click on a person puts
// them in too. Until an arrow key picks someone, Enter and Tab do what they always do.
// The options are built with textContent from the API's JSON: names are never markup.
"use strict";

(function () {
  // Asked once typing pauses this long, so a fast typist sends one request, not one a key.
  const DEBOUNCE_MS = 150;
  // A username's longest (service/models.py's USERNAME_PATTERN).
  const MAX_USERNAME_CHARS = 30;
  // Answers kept for the page's life: backspacing over a name asks nothing again.
  const MAX_REMEMBERED = 50;
  // What may continue a username, and what may continue a word (Python's \w and marks,
  // discovery._in_word): a mention must not start in one nor run on into one.
  const NAME_CHAR = /[A-Za-z0-9_]/;
  const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
  // Characters after which "@" starts nothing (discovery.URL_PUNCTUATION).
  const JOINING = new Set("&/#\uff03@.:=?-~+%\\");
  // Text that ends inside an http(s) URL (discovery.URL), where "@" starts nothing either.
  const IN_URL = /https?:\/\/[^\s<>"']*$/;

  // The last character of text, whole even if it lies outside the Basic Multilingual Plane.
  function lastChar(text) {
    return Array.from(text.slice(-2)).pop();
  }

  // The "@name" the caret is in, as {at, end, typed}: where the "@" is, where the name
  // ends, and the part of it before the caret; null when the caret is in no mention.
  function mentionAt(text, caret) {
    let start = caret;
    while (start > 0 && NAME_CHAR.test(text[start - 1])) start -= 1;
    const at = start - 1;
    if (at < 0 || text[at] !== "@") return null;
    const typed = text.slice(start, caret);
    if (!typed || typed.length > MAX_USERNAME_CHARS) return null;
    const before = text.slice(0, at);
    if (before) {
      const char = lastChar(before);
      if (WORD_CHAR.test(char) || JOINING.has(char) || IN_URL.test(before)) return null;
    }
    let end = caret;
    while (end < text.length && NAME_CHAR.test(text[end])) end += 1;
    if (end - start > MAX_USERNAME_CHARS) return null;
    const after = text.slice(end, end + 2);
    if (after && (after[0] === "@" || WORD_CHAR.test(Array.from(after)[0]))) return null;
    return { at, end, typed };
  }

  function setup(box) {
    const textarea = document.getElementById(box.dataset.mentionsFor);
    const list = box.querySelector("[role=listbox]");
    const plurals = new Intl.PluralRules(document.documentElement.lang || "en");
    const status = document.getElementById(list.id + "-status");
    if (!textarea || !status) return;
    const remembered = new Map();
    let people = [];
    let active = -1;
    let mention = null;
    let dismissedAt = -1; // the "@" whose list Escape closed: it stays closed while typed on
    let timer = 0;
    let asking = null;

    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);

    function say(text) {
      if (status.textContent !== text) status.textContent = text;
    }

    function close() {
      clearTimeout(timer);
      if (asking) asking.abort();
      asking = null;
      people = [];
      active = -1;
      box.hidden = true;
      list.replaceChildren();
      textarea.removeAttribute("aria-activedescendant");
      say("");
    }

    function choose(index) {
      active = index;
      Array.from(list.children).forEach((option, n) => {
        option.setAttribute("aria-selected", String(n === index));
      });
      if (index < 0) {
        textarea.removeAttribute("aria-activedescendant");
        return;
      }
      const option = list.children[index];
      textarea.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function option(person, index) {
      const item = document.createElement("li");
      item.id = list.id + "-" + index;
      item.className = "mention-option";
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      const avatar = document.createElement("img");
      avatar.className = "avatar";
      avatar.src = person.avatar_url;
      avatar.alt = "";
      avatar.width = 32;
      avatar.height = 32;
      const name = document.createElement("span");
      name.className = "post-name";
      name.dir = "auto";
      name.textContent = person.display_name || person.username;
      const handle = document.createElement("span");
      handle.className = "post-handle";
      handle.textContent = "@" + person.username;
      item.append(avatar, name, handle);
      return item;
    }

    function show(found) {
      const before = people.map((person) => person.username).join(" ");
      if (!found.length) { close(); return; }
      people = found;
      if (found.map((person) => person.username).join(" ") !== before) {
        list.replaceChildren(...found.map(option));
        choose(-1);
      }
      box.hidden = false;
      // The box's words, in the page's language and the plural form the count takes there.
      const words = plurals.select(found.length) === "one" ? box.dataset.one : box.dataset.other;
      say((words || "").replace("%(num)s", String(found.length)));
    }

    async function ask(typed) {
      const key = typed.toLowerCase();
      if (remembered.has(key)) { show(remembered.get(key)); return; }
      if (asking) asking.abort();
      const controller = new AbortController();
      asking = controller;
      const url = box.dataset.suggestions + "?q=" + encodeURIComponent(typed);
      try {
        const response = await fetch(url, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          signal: controller.signal,
        });
        if (!response.ok) return;
        const found = (await response.json()).items;
        if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value);
        remembered.set(key, found);
        // Only if the caret is still in the name it was asked for.
        if (asking === controller && mention && mention.typed.toLowerCase() === key) show(found);
      } catch (error) {
        // Aborted by a newer request, or offline: the field works as it did without us.
      } finally {
        if (asking === controller) asking = null;
      }
    }

    // Looks at where the caret is now: opens, updates or closes the list.
    function update() {
      const caret = textarea.selectionStart;
      mention = textarea.selectionEnd === caret ? mentionAt(textarea.value, caret) : null;
      if (!mention || mention.at === dismissedAt) {
        if (!mention) dismissedAt = -1;
        close();
        return;
      }
      clearTimeout(timer);
      const typed = mention.typed;
      timer = setTimeout(() => ask(typed), DEBOUNCE_MS);
    }

    function insert(index) {
      const person = people[index];
      if (!person || !mention) return;
      const text = textarea.value;
      const spaced = text[mention.end] === " " || text[mention.end] === "\n";
      textarea.setRangeText("@" + person.username + (spaced ? "" : " "), mention.at, mention.end, "end");
      if (spaced) textarea.selectionStart = textarea.selectionEnd = textarea.selectionEnd + 1;
      close();
      mention = null;
      // Whoever listens for changes of the text (counters, drafts) hears of this one too.
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      textarea.focus();
    }

    textarea.addEventListener("input", update);
    textarea.addEventListener("click", update);
    // Keys that move the caret; up and down only while the list is closed (open, they
    // move through the people and leave the caret where it is).
    textarea.addEventListener("keyup", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"].includes(event.key)) update();
      else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && box.hidden) update();
    });
    textarea.addEventListener("blur", close);
    textarea.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
      if (event.key === "Escape" && mention) {
        // Closed, or never opened if its answer is still on the way.
        dismissedAt = mention.at;
        if (!box.hidden) {
          event.preventDefault();
          event.stopPropagation();
        }
        close();
        return;
      }
      if (box.hidden) return;
      const count = people.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        choose(active < 0 ? (step > 0 ? 0 : count - 1) : (active + step + count) % count);
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && active >= 0) {
        event.preventDefault();
        insert(active);
      }
    });
    // Pressed, an option keeps the keyboard in the textarea (no blur to close the list).
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const item = event.target.closest("[role=option]");
      if (item) insert(Array.from(list.children).indexOf(item));
    });
    if (textarea.form) textarea.form.addEventListener("submit", close);
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const box of document.querySelectorAll("[data-mentions-for]")) setup(box);
  });
})();
