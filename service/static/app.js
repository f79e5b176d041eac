// Snapline's page script. No inline script anywhere (the CSP forbids it); every
// enhancement here is optional: pages work without JavaScript.
"use strict";

(function () {
  const UNITS = [
    [365 * 86400, "y"], [7 * 86400, "w"], [86400, "d"], [3600, "h"], [60, "min"],
  ];

  function relative(date) {
    const seconds = Math.floor((Date.now() - date.getTime()) / 1000);
    if (seconds < 45) return "just now";
    for (const [size, unit] of UNITS) {
      if (seconds >= size) return Math.floor(seconds / size) + " " + unit + " ago";
    }
    return "just now";
  }

  // Keeps "3 min ago" true while a page stays open.
  function refreshTimes(root) {
    for (const element of (root || document).querySelectorAll("time[data-relative]")) {
      const date = new Date(element.getAttribute("datetime"));
      if (!Number.isNaN(date.getTime())) element.textContent = relative(date);
    }
  }

  function csrfToken() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }

  // Builds an element. Text always goes in as text nodes, never as HTML, so whatever a user
  // wrote stays inert.
  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) element.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      element.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return element;
  }

  function exactTime(iso) {
    return iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC";
  }

  function timeElement(iso) {
    return el("time", { datetime: iso, title: exactTime(iso), "data-relative": "" }, relative(new Date(iso)));
  }

  function authorLink(user) {
    return el("a", { class: "post-author", href: user.url },
      el("img", { class: "avatar", src: user.avatar_url, alt: "", width: "40", height: "40" }),
      el("span", { class: "post-name", dir: "auto" }, user.display_name || user.username),
      el("span", { class: "post-handle" }, "@" + user.username));
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  // The same markup as _photos in service/web/cards.py.
  function photosElement(post) {
    if (!post.photos || post.photos.length === 0) return null;
    const grid = el("div", { class: "photos photos-" + post.photos.length });
    for (const photo of post.photos) {
      grid.append(el("a", { class: "photo", href: post.url },
        el("img", { src: photo.thumb_url, alt: photo.alt || "", loading: "lazy", width: "320", height: "320" })));
    }
    return grid;
  }

  // The same markup as service/web/cards.py.
  function renderPost(post) {
    const viewer = document.body.dataset.viewer;
    const canDelete = viewer && (viewer === post.author.username || "moderator" in document.body.dataset);
    const shownAt = post.published_at || post.created_at;
    const footer = el("footer", { class: "post-footer" });
    if (viewer && post.status === "published") {
      footer.append(el("form", { method: "post", action: post.url + (post.liked ? "/unlike" : "/like"), class: "inline-form like-form" },
        el("input", { type: "hidden", name: "csrf_token", value: csrfToken() }),
        el("button", { type: "submit", class: "like-button", "aria-pressed": String(post.liked), "data-post-id": String(post.id) },
          el("span", { "aria-hidden": "true" }, post.liked ? "\u2665" : "\u2661"), " ",
          el("span", { class: "like-count" }, String(post.like_count)), " ",
          el("span", { class: "like-label" }, post.like_count === 1 ? "like" : "likes"))));
    } else {
      footer.append(el("span", { class: "post-stat" }, plural(post.like_count, "like", "likes")));
    }
    footer.append(el("a", { class: "post-stat", href: post.url + "#comments" }, plural(post.comment_count, "comment", "comments")));
    if (canDelete) {
      footer.append(el("form", { method: "post", action: post.url + "/delete", class: "inline-form post-delete" },
        el("input", { type: "hidden", name: "csrf_token", value: csrfToken() }),
        el("button", { type: "submit", class: "link-button danger" }, "Delete",
          el("span", { class: "visually-hidden" }, " post " + post.id))));
    }
    return el("article", { class: "post", id: "post-" + post.id, "data-post-id": String(post.id) },
      el("header", { class: "post-header" },
        authorLink(post.author),
        el("a", { class: "post-time", href: post.url }, timeElement(shownAt))),
      photosElement(post),
      post.body ? el("p", { class: "post-body", dir: "auto" }, post.body) : null,
      footer);
  }

  // The same markup as templates/_comment.html.
  function renderComment(comment, postAuthor) {
    const viewer = document.body.dataset.viewer;
    const canDelete = viewer && (viewer === comment.author.username || viewer === postAuthor ||
      "moderator" in document.body.dataset);
    const header = el("div", { class: "comment-header" },
      el("a", { class: "post-author", href: comment.author.url },
        el("img", { class: "avatar", src: comment.author.avatar_url, alt: "", width: "32", height: "32" }),
        el("span", { class: "post-name", dir: "auto" }, comment.author.display_name || comment.author.username)),
      timeElement(comment.created_at));
    if (canDelete) {
      header.append(el("form", { method: "post", action: "/comments/" + comment.id + "/delete", class: "inline-form comment-delete" },
        el("input", { type: "hidden", name: "csrf_token", value: csrfToken() }),
        el("button", { type: "submit", class: "link-button danger" }, "Delete",
          el("span", { class: "visually-hidden" }, " comment " + comment.id))));
    }
    return el("li", { class: "comment", id: "comment-" + comment.id, "data-comment-id": String(comment.id) },
      header, el("p", { class: "comment-body", dir: "auto" }, comment.body));
  }

  function renderPerson(item) {
    return el("li", { class: "person" },
      authorLink(item.user),
      el("span", { class: "since" }, "since ", timeElement(item.since)));
  }

  // "Load more": the server renders the first page and an "Older posts" link that works
  // without JavaScript; here the link fetches the next page from the JSON API instead,
  // on click or as soon as it scrolls into view.
  function setupFeed(list) {
    const link = list.parentElement.querySelector(".load-more");
    if (!link) return;
    const kind = list.dataset.feed;
    const keyOf = (item) => (kind === "people" ? item.user.username + "@" + item.since : kind + item.id);
    const render = {
      posts: (item) => el("li", {}, renderPost(item)),
      comments: (item) => renderComment(item, list.dataset.postAuthor),
      people: renderPerson,
    }[kind];
    const seen = new Set();
    for (const node of list.querySelectorAll("[data-post-id]")) seen.add("posts" + node.dataset.postId);
    for (const node of list.querySelectorAll("[data-comment-id]")) seen.add("comments" + node.dataset.commentId);
    let cursor = link.dataset.cursor;
    let loading = false;

    async function loadMore() {
      if (loading || !cursor) return;
      loading = true;
      link.setAttribute("aria-busy", "true");
      try {
        const url = list.dataset.api + "?cursor=" + encodeURIComponent(cursor);
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const page = await response.json();
        for (const item of page.items) {
          const key = keyOf(item);
          if (seen.has(key)) continue;
          seen.add(key);
          list.append(render(item));
        }
        cursor = page.next_cursor;
        if (cursor) {
          link.href = "?cursor=" + encodeURIComponent(cursor);
          link.textContent = { posts: "Older posts", comments: "More comments", people: "More" }[kind];
        } else {
          link.parentElement.remove();
        }
      } catch (error) {
        link.textContent = "Could not load more. Try again";
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
      const observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadMore();
      }, { rootMargin: "400px" });
      observer.observe(link);
    }
  }

  async function api(method, url, body) {
    const options = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) throw Object.assign(new Error(data && data.error ? data.error.message : "HTTP " + response.status), { response });
    return data;
  }

  // Like buttons toggle in place; the form still works without JavaScript.
  function setupLikes() {
    document.addEventListener("submit", async (event) => {
      const form = event.target.closest(".like-form");
      if (!form) return;
      event.preventDefault();
      const button = form.querySelector(".like-button");
      const liked = button.getAttribute("aria-pressed") === "true";
      try {
        const result = await api(liked ? "DELETE" : "POST", "/api/v1/posts/" + button.dataset.postId + "/like");
        button.setAttribute("aria-pressed", String(result.liked));
        button.querySelector("[aria-hidden]").textContent = result.liked ? "\u2665" : "\u2661";
        button.querySelector(".like-count").textContent = String(result.like_count);
        button.querySelector(".like-label").textContent = result.like_count === 1 ? "like" : "likes";
        form.action = "/p/" + button.dataset.postId + (result.liked ? "/unlike" : "/like");
      } catch (error) {
        form.submit();
      }
    });
  }

  // A new comment is appended without a reload.
  function setupCommentForm() {
    const form = document.querySelector(".comment-form");
    const list = document.querySelector(".comment-list");
    if (!form || !list) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const textarea = form.querySelector("textarea");
      const error = form.querySelector(".field-error");
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const comment = await api("POST", "/api/v1/posts/" + list.dataset.postId + "/comments", { body: textarea.value });
        if (!list.querySelector('[data-comment-id="' + comment.id + '"]')) {
          list.append(renderComment(comment, list.dataset.postAuthor));
        }
        const empty = document.querySelector(".comments-empty");
        if (empty) empty.remove();
        textarea.value = "";
        error.hidden = true;
        textarea.removeAttribute("aria-invalid");
      } catch (failure) {
        if (!failure.response) { form.submit(); return; }
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
  // a banner counts them and a click shows them at the top. After a reconnect the page
  // asks the timeline API what it missed.
  function setupLive() {
    if (!document.body.dataset.viewer || !("EventSource" in window)) return;
    const feed = document.querySelector(".feed[data-live]");
    const banner = document.querySelector(".new-posts");
    const pending = new Set();
    const shown = () => new Set(Array.from(feed.querySelectorAll("[data-post-id]"), (node) => Number(node.dataset.postId)));

    function updateBanner() {
      if (!banner) return;
      banner.hidden = pending.size === 0;
      banner.querySelector("button").textContent =
        pending.size === 1 ? "1 new post" : pending.size + " new posts";
    }

    async function catchUp() {
      if (!feed) return;
      const page = await api("GET", "/api/v1/timeline?limit=50");
      const present = shown();
      for (const post of page.items) if (!present.has(post.id)) pending.add(post.id);
      updateBanner();
    }

    async function showNewPosts() {
      const page = await api("GET", "/api/v1/timeline?limit=50");
      const present = shown();
      const fresh = page.items.filter((post) => !present.has(post.id) && pending.has(post.id));
      for (const post of fresh.reverse()) feed.prepend(el("li", {}, renderPost(post)));
      pending.clear();
      updateBanner();
      const empty = feed.parentElement.querySelector(".empty");
      if (empty && feed.children.length) empty.remove();
      window.scrollTo({ top: 0 });
      const first = feed.querySelector(".post");
      if (first) { first.setAttribute("tabindex", "-1"); first.focus({ preventScroll: true }); }
    }

    if (banner) banner.querySelector("button").addEventListener("click", () => showNewPosts());
    let connectedBefore = false;
    let source = null;

    function connect() {
      if (source) return;
      source = new EventSource("/api/v1/stream");
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
      source.addEventListener("post", (event) => {
        if (!feed) return;
        const { post_id } = JSON.parse(event.data);
        if (shown().has(post_id)) return;
        pending.add(post_id);
        updateBanner();
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

  window.Snapline = Object.assign(window.Snapline || {}, { api, csrfToken, el, refreshTimes, renderComment, renderPost });

  document.addEventListener("DOMContentLoaded", () => {
    refreshTimes();
    setInterval(refreshTimes, 60 * 1000);
    for (const list of document.querySelectorAll("[data-feed]")) setupFeed(list);
    setupLikes();
    setupCommentForm();
    setupLive();
  });
})();
