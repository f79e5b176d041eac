// Snapline's page script. No inline script anywhere (the CSP forbids it); every
// enhancement here is optional: pages work without JavaScript.
//
// Behaviour only, never markup: posts, comments, people and like buttons are rendered by
// the server, and what this script inserts ("load more", new posts, a comment or a like
// in place) are fragments the server renders with the same templates and card functions
// as the page (docs/rendering.md).
"use strict";

(function () {
  // Asks a page URL (or /fragments/...) for a fragment instead of the whole page.
  const FRAGMENT_HEADER = "X-Snapline-Fragment";
  // The most post ids /fragments/posts takes at once: one page of a list.
  const MAX_NEW_POSTS = 50;
  // What the full-screen viewer leaves around a photo (style.css, .viewer-image).
  const VIEWER_MARGIN_X_PX = 32;
  const VIEWER_MARGIN_Y_PX = 150;
  // How long "Link copied" stays.
  const TOAST_MS = 3000;
  // As the server words them (web/times.py): Snapline's own short forms in English, the
  // language's CLDR forms otherwise; "just now" comes from the page, translated.
  const LANGUAGE = document.documentElement.lang || "en";
  // The few words this script shows come from the page, in its language (base.html's
  // <html data-*>); "%(n)s" in them stands for a value put in here (fill).
  const WORDS = document.documentElement.dataset;
  const JUST_NOW = WORDS.justNow || "just now";
  const JUST_NOW_SECONDS = 45;
  const ENGLISH_UNITS = [
    [365 * 86400, "y"], [7 * 86400, "w"], [86400, "d"], [3600, "h"], [60, "min"],
  ];
  const CLDR_UNITS = [
    [365 * 86400, "year"], [30 * 86400, "month"], [7 * 86400, "week"], [86400, "day"],
    [3600, "hour"], [60, "minute"],
  ];
  let cldrWords = null;

  function relative(date) {
    const seconds = Math.floor((Date.now() - date.getTime()) / 1000);
    if (seconds < JUST_NOW_SECONDS) return JUST_NOW;
    if (LANGUAGE === "en") {
      for (const [size, unit] of ENGLISH_UNITS) {
        // Snapline's own short English form (web/times.py), only ever in English.
        if (seconds >= size) return `${Math.floor(seconds / size)} ${unit} ago`;
      }
      return JUST_NOW;
    }
    cldrWords = cldrWords || new Intl.RelativeTimeFormat(LANGUAGE, { style: "narrow" });
    for (const [size, unit] of CLDR_UNITS) {
      if (seconds >= size) return cldrWords.format(-Math.floor(seconds / size), unit);
    }
    return JUST_NOW;
  }

  // Keeps "3 min ago" true while a page stays open.
  function refreshTimes(root) {
    for (const element of (root || document).querySelectorAll("time[data-relative]")) {
      const date = new Date(element.getAttribute("datetime"));
      if (!Number.isNaN(date.getTime())) element.textContent = relative(date);
    }
  }

  // The page's words with their placeholders ("%(n)s") filled in.
  function fill(words, values) {
    return (words || "").replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  function photoPosition(n, total) {
    return fill(WORDS.photoPosition, { n, total });
  }

  function csrfToken() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }

  // Fetches a fragment and gives its root element, whose data-fragment names what it holds
  // (kind). The markup is parsed by DOMParser, where nothing runs or loads, and then moved
  // into the page as it is. A failure throws an Error with the server's words when it sent
  // them (a "problem" fragment: error.problem is true); otherwise (no answer, or a page
  // rather than a fragment, as after a redirect to the login page) error.problem is false.
  async function fragment(url, kind, options) {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { [FRAGMENT_HEADER]: "1", "X-CSRF-Token": csrfToken() },
    });
    const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
    const root = parsed.body.firstElementChild;
    const found = root && root.dataset.fragment;
    if (response.ok && found === kind) return root;
    const problem = found === "problem";
    throw Object.assign(new Error(problem ? root.textContent : "HTTP " + response.status), { problem });
  }

  // A form's fields as a url-encoded body (FormData alone would send multipart).
  function formBody(form) {
    return new URLSearchParams(new FormData(form));
  }

  // Moves a fragment's items to the end of list, leaving out any already on the page
  // (matched by the id of the item or of its card); the items moved.
  function appendNew(list, items) {
    const added = [];
    for (const item of Array.from(items.children)) {
      const id = item.id || (item.firstElementChild && item.firstElementChild.id);
      if (id && document.getElementById(id)) continue;
      list.append(item);
      added.push(item);
    }
    return added;
  }

  function focusItem(item) {
    // A tile is a link, already in the tab order; anything else is made focusable.
    const tile = item.querySelector(".tile");
    if (tile) { tile.focus({ preventScroll: true }); return; }
    const target = item.querySelector(".post") || item;
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
  }

  function reducedMotion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  // Carousels: the server renders several photos as a strip that scrolls sideways and
  // snaps to each (swiping works without a script), with previous/next buttons and dots
  // hidden. Here the controls are shown and kept in step with the strip, arrow keys move
  // it, and the status line announces the position ("Photo 2 of 3").
  const carousels = new WeakMap();

  function setupCarousel(root) {
    if (carousels.has(root)) return;
    const track = root.querySelector(".carousel-track");
    const slides = Array.from(track.children);
    const prev = root.querySelector(".carousel-prev");
    const next = root.querySelector(".carousel-next");
    const dots = root.querySelector(".carousel-dots");
    const status = root.querySelector(".carousel-status");
    let index = 0;
    let settling = null;

    function show(position) {
      if (position === index) return;
      index = position;
      Array.from(dots.children).forEach((dot, n) => dot.setAttribute("data-current", String(n === index)));
      prev.setAttribute("aria-disabled", String(index === 0));
      next.setAttribute("aria-disabled", String(index === slides.length - 1));
      status.textContent = photoPosition(index + 1, slides.length);
    }

    // Moves to a photo: the position is shown at once, while the strip glides there.
    function go(position, instant) {
      const target = Math.max(0, Math.min(slides.length - 1, position));
      show(target);
      track.scrollTo({ left: target * track.clientWidth, behavior: instant || reducedMotion() ? "auto" : "smooth" });
      return target;
    }

    // Swiped or scrolled: once the strip rests, the photo it rests on is the current one.
    function settle() {
      clearTimeout(settling);
      settling = null;
      if (track.clientWidth) show(Math.round(track.scrollLeft / track.clientWidth));
    }
    track.addEventListener("scroll", () => {
      clearTimeout(settling);
      settling = setTimeout(settle, 150);
    }, { passive: true });
    track.addEventListener("scrollend", settle);
    // A strip that changes size (a phone turned, a window resized) stays on its photo.
    if ("ResizeObserver" in window) {
      new ResizeObserver(() => track.scrollTo({ left: index * track.clientWidth, behavior: "auto" })).observe(track);
    }

    prev.addEventListener("click", () => go(index - 1));
    next.addEventListener("click", () => go(index + 1));
    root.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const before = index;
      const after = go(index + step);
      // A photo's link had the keyboard: it moves on to the photo now shown.
      const focused = slides[before].contains(document.activeElement);
      const link = slides[after].querySelector("a");
      if (focused && link && after !== before) link.focus({ preventScroll: true });
    });

    root.setAttribute("data-ready", "");
    prev.hidden = false;
    next.hidden = false;
    dots.hidden = false;
    carousels.set(root, { go, current: () => index });
  }

  // Photos behind a "Sensitive content" cover: the <details> opens and closes by itself;
  // here its words follow what pressing it will do.
  function setupSensitive(cover) {
    if (cover.hasAttribute("data-ready")) return;
    const hint = cover.querySelector(".sensitive-hint");
    cover.addEventListener("toggle", () => {
      hint.textContent = cover.open ? WORDS.hidePhotos : WORDS.showPhotos;
    });
    cover.setAttribute("data-ready", "");
  }

  // Views: a card in a feed counts as seen once at least half of it has been on screen for
  // SEEN_MS. Seen cards are reported in batches (at most VIEW_BATCH ids a request) every
  // VIEW_REPORT_MS and when the page is hidden, with keepalive so that a report sent as the
  // page goes away still arrives. The server decides what counts (docs/trending.md).
  const SEEN_MS = 1000;
  const VIEW_REPORT_MS = 10 * 1000;
  const VIEW_BATCH = 50;
  let viewWatcher = null;

  function setupViewCounting() {
    const feed = document.querySelector("[data-feed][data-views]");
    if (!feed || !("IntersectionObserver" in window)) return;
    const url = feed.dataset.views;
    const timers = new Map();
    const reported = new Set();
    let seen = [];
    function report() {
      while (seen.length) {
        const batch = seen.splice(0, VIEW_BATCH);
        const body = new URLSearchParams(batch.map((id) => ["post", id]));
        fetch(url, {
          method: "POST",
          credentials: "same-origin",
          keepalive: true,
          headers: { "X-CSRF-Token": csrfToken() },
          body,
        }).catch(() => {});
      }
    }
    viewWatcher = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const id = entry.target.dataset.postId;
        if (entry.isIntersecting) {
          if (reported.has(id) || timers.has(id)) continue;
          timers.set(id, setTimeout(() => {
            timers.delete(id);
            reported.add(id);
            seen.push(id);
            viewWatcher.unobserve(entry.target);
          }, SEEN_MS));
        } else if (timers.has(id)) {
          clearTimeout(timers.get(id));
          timers.delete(id);
        }
      }
    }, { threshold: 0.5 });
    setInterval(report, VIEW_REPORT_MS);
    document.addEventListener("visibilitychange", () => { if (document.hidden) report(); });
    window.addEventListener("pagehide", report);
    watchViews(feed);
  }

  function watchViews(root) {
    if (!viewWatcher || !root.querySelectorAll) return;
    if (root.matches("article.post[data-post-id]")) viewWatcher.observe(root);
    for (const card of root.querySelectorAll("article.post[data-post-id]")) viewWatcher.observe(card);
  }

  function enhance(root) {
    watchViews(root);
    if (root.matches && root.matches("[data-sensitive]")) setupSensitive(root);
    if (root.querySelectorAll) for (const cover of root.querySelectorAll("[data-sensitive]")) setupSensitive(cover);
    if (root.matches && root.matches("[data-carousel]")) setupCarousel(root);
    if (root.querySelectorAll) for (const carousel of root.querySelectorAll("[data-carousel]")) setupCarousel(carousel);
  }

  // The photo viewer: a photo activated opens large in the page's <dialog>, in the width
  // that fits the screen (its own srcset, told the size it is shown at), with its alt
  // text; arrows go between the post's photos, and Escape, the button or the browser's back
  // closes it, the keyboard going back to the photo. On a post's page its photos open it;
  // in a feed a card's photos do, with a link to the post. Without a script a post page's
  // photo links to its sharpest copy, and a card's photo to its post.
  function setupViewer() {
    const dialog = document.querySelector("dialog.viewer");
    if (!dialog || typeof dialog.showModal !== "function") return;
    const source = dialog.querySelector("source");
    const image = dialog.querySelector(".viewer-image");
    const position = dialog.querySelector(".viewer-position");
    const alt = dialog.querySelector(".viewer-alt");
    const status = dialog.querySelector(".viewer-status");
    const prev = dialog.querySelector(".viewer-prev");
    const next = dialog.querySelector(".viewer-next");
    const postLink = dialog.querySelector(".viewer-post");
    let links = [];
    let index = 0;
    // The history entry opening the viewer added: "back" closes the viewer, not the page.
    let ownEntry = false;

    // A photo's own width and height: on a post page its image's; a card's image has its
    // box's shape, so its link carries the photo's.
    function shape(link) {
      const photo = link.querySelector("img");
      const width = Number(link.dataset.width || photo.getAttribute("width"));
      const height = Number(link.dataset.height || photo.getAttribute("height"));
      return [width, height];
    }

    // The photo's width on screen when it fills the room the viewer leaves it (in CSS px,
    // style.css's .viewer-image): the browser fetches the narrowest width that covers it.
    function fit() {
      const [width, height] = shape(links[index]);
      const ratio = width / height || 1;
      const room = [window.innerWidth - VIEWER_MARGIN_X_PX, window.innerHeight - VIEWER_MARGIN_Y_PX];
      source.sizes = Math.ceil(Math.max(1, Math.min(room[0], room[1] * ratio))) + "px";
      image.sizes = source.sizes;
    }

    function show(position_) {
      index = Math.max(0, Math.min(links.length - 1, position_));
      const photo = links[index].querySelector("img");
      const widths = links[index].querySelector("source");
      // Emptied first, so the last photo is not shown stretched to the new one's shape.
      image.removeAttribute("src");
      if (widths) source.srcset = widths.srcset; else source.removeAttribute("srcset");
      [image.width, image.height] = shape(links[index]);
      image.src = photo.getAttribute("src");
      image.alt = photo.alt;
      alt.textContent = photo.alt;
      const where = links.length > 1 ? photoPosition(index + 1, links.length) : "";
      position.textContent = where;
      status.textContent = where;
      prev.hidden = next.hidden = links.length < 2;
      prev.disabled = index === 0;
      next.disabled = index === links.length - 1;
      fit();
    }

    function move(step) {
      const target = index + step;
      if (target < 0 || target >= links.length) return;
      const pressed = document.activeElement;
      show(target);
      // The button pressed is disabled at the last photo: the keyboard goes to the other.
      if ((pressed === prev || pressed === next) && pressed.disabled) (pressed === next ? prev : next).focus();
    }

    document.addEventListener("click", (event) => {
      const link = event.target.closest(".photo-open, .post .photo");
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      const card = link.closest(".post");
      if (card.classList.contains("post-pending")) return;
      const selector = link.classList.contains("photo-open") ? ".photo-open" : ".photo";
      links = Array.from(card.querySelectorAll(selector));
      event.preventDefault();
      postLink.hidden = selector !== ".photo";
      if (selector === ".photo") postLink.href = link.getAttribute("href");
      // Opened first: the width that fits is measured on the open dialog.
      dialog.showModal();
      show(links.indexOf(link));
      dialog.querySelector(".viewer-close").focus();
      history.pushState({ viewer: true }, "");
      ownEntry = true;
    });
    dialog.querySelector(".viewer-close").addEventListener("click", () => dialog.close());
    prev.addEventListener("click", () => move(-1));
    next.addEventListener("click", () => move(1));
    dialog.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
      if (!step || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      move(step);
    });
    // A click on the backdrop (the dialog itself, around the photo) closes it too.
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
    window.addEventListener("resize", () => { if (dialog.open) fit(); });
    // The browser's back while it is open: the entry it added is gone; close.
    window.addEventListener("popstate", () => {
      if (!dialog.open) return;
      ownEntry = false;
      dialog.close();
    });
    // Back to the photo last shown, its carousel moved there; closed otherwise than by
    // "back", the entry opening it added is taken back.
    dialog.addEventListener("close", () => {
      if (ownEntry) {
        ownEntry = false;
        history.back();
      }
      const link = links[index];
      if (!link) return;
      const carousel = carousels.get(link.closest("[data-carousel]"));
      if (carousel) carousel.go(index, true);
      link.focus();
    });
  }

  // "Load more": the server renders the first page and a "more" link that works without
  // JavaScript; here that very link is fetched as a fragment instead, on click or as soon
  // as it scrolls into view, and its items are appended.
  function setupFeed(list) {
    const link = list.parentElement.querySelector(".load-more");
    if (!link) return;
    const label = link.textContent;
    let loading = false;
    let observer = null;

    async function loadMore() {
      if (loading || !link.isConnected) return;
      loading = true;
      link.setAttribute("aria-busy", "true");
      try {
        const items = await fragment(link.href, list.dataset.feed);
        const added = appendNew(list, items);
        const next = items.dataset.nextCursor;
        if (next) {
          const url = new URL(link.href);
          url.searchParams.set("cursor", next);
          link.href = url.href;
          link.textContent = label;
          // Observed afresh, it is reported at once: a reader who scrolled to the end
          // while this page loaded gets the next one, though the link never left view.
          if (observer) {
            observer.unobserve(link);
            observer.observe(link);
          }
        } else {
          // The link goes; whoever was on it continues at the first item it brought.
          const focused = document.activeElement === link;
          link.parentElement.remove();
          if (observer) observer.disconnect();
          if (focused && added.length) focusItem(added[0]);
        }
      } catch (error) {
        link.textContent = WORDS.loadFailed;
      } finally {
        loading = false;
        link.removeAttribute("aria-busy");
      }
    }

    link.addEventListener("click", (event) => {
      event.preventDefault();
      loadMore();
    });
    if ("IntersectionObserver" in window) {
      observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadMore();
      }, { rootMargin: "400px" });
      observer.observe(link);
    }
  }

  // Like buttons toggle in place: the form is sent as it is, and the server answers with
  // the post's new like button, which takes the old one's place (and its focus). Without
  // JavaScript the form posts and comes back to the page.
  function setupLikes() {
    document.addEventListener("submit", async (event) => {
      const form = event.target.closest(".like-form");
      if (!form) return;
      event.preventDefault();
      if (form.getAttribute("aria-busy")) return;
      form.setAttribute("aria-busy", "true");
      try {
        const answer = await fragment(form.action, "like", { method: "POST", body: formBody(form) });
        const replacement = answer.querySelector(".like-form");
        const focused = form.contains(document.activeElement);
        form.replaceWith(replacement);
        if (focused) replacement.querySelector("button").focus();
      } catch (error) {
        form.submit();
      }
    });
  }

  // A post's share link: the device's share sheet where it has one (phones), else the
  // link copied and said so. Without a script, or if both fail, it opens the post.
  function setupShare() {
    const notice = document.createElement("p");
    notice.className = "toast";
    notice.setAttribute("role", "status");
    document.body.append(notice);
    let clearing = 0;
    function say(text) {
      notice.textContent = text;
      clearTimeout(clearing);
      clearing = setTimeout(() => { notice.textContent = ""; }, TOAST_MS);
    }
    document.addEventListener("click", async (event) => {
      const link = event.target.closest(".post-share");
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      if (navigator.share) {
        try { await navigator.share({ url: link.href }); } catch (error) { /* dismissed */ }
        return;
      }
      try {
        await navigator.clipboard.writeText(link.href);
        say(WORDS.linkCopied);
      } catch (error) {
        window.location.href = link.href;
      }
    });
  }

  // A post's "more" menu is a <details>: one open at a time, closed by Escape (the
  // keyboard back on its button) or a click anywhere else.
  function setupMenus() {
    const openMenus = () => document.querySelectorAll("details.post-menu[open]");
    document.addEventListener("click", (event) => {
      for (const menu of openMenus()) if (!menu.contains(event.target)) menu.open = false;
    });
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      for (const menu of openMenus()) {
        const focused = menu.contains(document.activeElement);
        menu.open = false;
        if (focused) menu.querySelector("summary").focus();
      }
    });
  }

  // A new comment is appended without a reload: the form is sent as it is, and the server
  // answers with the comment as the page shows it, or with why it was refused.
  function setupCommentForm() {
    const form = document.querySelector(".comment-form");
    const list = document.querySelector(".comment-list");
    if (!form || !list) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const textarea = form.querySelector("textarea");
      const error = form.querySelector(".field-error");
      const button = form.querySelector("button[type=submit]");
      const body = formBody(form);
      button.disabled = true;
      try {
        appendNew(list, await fragment(form.action, "comments", { method: "POST", body }));
        const empty = document.querySelector(".comments-empty");
        if (empty) empty.remove();
        textarea.value = "";
        error.hidden = true;
        textarea.removeAttribute("aria-invalid");
      } catch (failure) {
        if (!failure.problem) { form.submit(); return; }
        error.textContent = failure.message;
        error.hidden = false;
        textarea.setAttribute("aria-invalid", "true");
        textarea.setAttribute("aria-describedby", error.id);
      } finally {
        button.disabled = false;
      }
    });
  }

  function setUnread(count) {
    const badge = document.querySelector(".count-badge");
    if (!badge) return;
    badge.dataset.unread = String(count);
    badge.firstChild.textContent = String(count);
    badge.hidden = count === 0;
  }

  // Live updates over Server-Sent Events. New posts are never inserted under the reader:
  // a banner counts them and a click fetches their cards and shows them at the top. After
  // a reconnect the page asks the timeline API which posts it missed.
  function setupLive() {
    if (!document.body.dataset.viewer || !("EventSource" in window)) return;
    const feed = document.querySelector(".feed[data-live]");
    const banner = document.querySelector(".new-posts");
    const pending = new Set();
    const plurals = new Intl.PluralRules(LANGUAGE);
    const shown = () => new Set(Array.from(feed.querySelectorAll("[data-post-id]"), (node) => Number(node.dataset.postId)));

    function updateBanner() {
      if (!banner) return;
      banner.hidden = pending.size === 0;
      // Its words in the page's language, in the plural form the count takes there.
      const form = plurals.select(pending.size) === "one" ? banner.dataset.one : banner.dataset.other;
      banner.querySelector("button").textContent = fill(form, { num: pending.size });
    }

    async function catchUp() {
      if (!feed) return;
      const response = await fetch(feed.dataset.catchUp + "?limit=50", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) return;
      const present = shown();
      for (const post of (await response.json()).items) if (!present.has(post.id)) pending.add(post.id);
      updateBanner();
    }

    async function showNewPosts() {
      const present = shown();
      // Newest last in the set; the newest that fit in one fragment.
      const ids = Array.from(pending).filter((id) => !present.has(id)).slice(-MAX_NEW_POSTS);
      if (ids.length) {
        const cards = await fragment(feed.dataset.cards + "?ids=" + ids.join(","), "posts");
        // A post of the viewer's own shown as processing above the feed is now published:
        // its card in the feed takes the place of the old one.
        for (const item of cards.children) {
          const stale = document.getElementById(item.firstElementChild.id);
          if (stale) stale.remove();
        }
        // Newest first, as in the feed; a post the viewer may not see is not among them.
        feed.prepend(...Array.from(cards.children));
      }
      pending.clear();
      updateBanner();
      const empty = feed.parentElement.querySelector(".empty");
      if (empty && feed.children.length) empty.remove();
      window.scrollTo({ top: 0 });
      const first = feed.querySelector(".post");
      if (first) { first.setAttribute("tabindex", "-1"); first.focus({ preventScroll: true }); }
    }

    // The viewer's own post, shown as processing, was published or failed: its card is
    // replaced where the viewer is looking, without a banner (they are waiting for it). In
    // a feed the published card goes to the top, as the newest post; on the post's own
    // page the page is fetched again for its full-size card.
    async function replaceOwnPending(postId) {
      const stale = document.querySelector('.post-pending[data-post-id="' + postId + '"]');
      if (!stale) return false;
      let item = null; // the card's list item, in a feed
      let card = null;
      if (feed) {
        item = (await fragment(feed.dataset.cards + "?ids=" + postId, "posts")).firstElementChild;
        card = item && item.querySelector(".post");
      } else {
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        if (!response.ok) return true;
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        card = page.getElementById(stale.id);
      }
      if (!card) return true;
      if (item && !card.classList.contains("post-pending")) {
        stale.remove();
        feed.prepend(item);
        const empty = feed.parentElement.querySelector(".empty");
        if (empty) empty.remove();
      } else {
        stale.replaceWith(card);
      }
      refreshTimes(card);
      return true;
    }

    // A failed fetch leaves the banner up, to be clicked again.
    if (banner) banner.querySelector("button").addEventListener("click", () => showNewPosts().catch(() => {}));
    let connectedBefore = false;
    let source = null;

    function connect() {
      if (source) return;
      source = new EventSource(document.body.dataset.stream);
      source.addEventListener("open", () => {
        document.body.dataset.live = "open";
        if (connectedBefore) catchUp().catch(() => {});
        connectedBefore = true;
      });
      source.addEventListener("error", () => {
        document.body.dataset.live = "reconnecting";
      });
      source.addEventListener("resync", () => catchUp().catch(() => {}));
      source.addEventListener("notifications", (event) => setUnread(JSON.parse(event.data).unread));
      source.addEventListener("post", async (event) => {
        const { post_id } = JSON.parse(event.data);
        if (await replaceOwnPending(post_id).catch(() => false)) return;
        if (!feed || shown().has(post_id)) return;
        pending.add(post_id);
        updateBanner();
      });
      source.addEventListener("post-failed", (event) => {
        replaceOwnPending(JSON.parse(event.data).post_id).catch(() => {});
      });
    }

    function disconnect() {
      if (!source) return;
      source.close();
      source = null;
      document.body.dataset.live = "closed";
    }

    connect();
    // Over HTTP/1.1 a browser keeps at most six connections to one host: a page in the
    // back/forward cache or a background tab must not hold one with its stream, or other
    // pages of the site stop loading. Coming back reconnects and catches up.
    window.addEventListener("pagehide", disconnect);
    window.addEventListener("pageshow", (event) => { if (event.persisted) connect(); });
    document.addEventListener("visibilitychange", () => (document.hidden ? disconnect() : connect()));
  }

  document.addEventListener("DOMContentLoaded", () => {
    refreshTimes();
    setInterval(refreshTimes, 60 * 1000);
    for (const list of document.querySelectorAll("[data-feed]")) setupFeed(list);
    enhance(document);
    // Cards the script inserts (load more, new posts, a post published) get theirs too.
    new MutationObserver((changes) => {
      for (const change of changes) for (const node of change.addedNodes) enhance(node);
    }).observe(document.querySelector("main"), { childList: true, subtree: true });
    setupViewer();
    setupLikes();
    setupShare();
    setupMenus();
    setupCommentForm();
    setupLive();
    setupViewCounting();
  });
})();
