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
      el("span", { class: "post-name" }, user.display_name || user.username),
      el("span", { class: "post-handle" }, "@" + user.username));
  }

  function plural(count, one, many) {
    return count + " " + (count === 1 ? one : many);
  }

  // The same markup as templates/_photos.html.
  function photosElement(post) {
    if (!post.photos || post.photos.length === 0) return null;
    const grid = el("div", { class: "photos photos-" + post.photos.length });
    for (const photo of post.photos) {
      grid.append(el("a", { class: "photo", href: post.url },
        el("img", { src: photo.thumb_url, alt: photo.alt || "", loading: "lazy", width: "320", height: "320" })));
    }
    return grid;
  }

  // The same markup as templates/_post.html.
  function renderPost(post) {
    const viewer = document.body.dataset.viewer;
    const canDelete = viewer && (viewer === post.author.username || "moderator" in document.body.dataset);
    const shownAt = post.published_at || post.created_at;
    const footer = el("footer", { class: "post-footer" },
      el("span", { class: "post-stat" }, plural(post.like_count, "like", "likes")),
      el("a", { class: "post-stat", href: post.url }, plural(post.comment_count, "comment", "comments")));
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
      post.body ? el("p", { class: "post-body" }, post.body) : null,
      footer);
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
    const keyOf = (item) => (kind === "posts" ? "p" + item.id : item.user.username + "@" + item.since);
    const seen = new Set();
    if (kind === "posts") {
      for (const article of list.querySelectorAll("[data-post-id]")) seen.add("p" + article.dataset.postId);
    }
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
          list.append(kind === "posts" ? el("li", {}, renderPost(item)) : renderPerson(item));
        }
        cursor = page.next_cursor;
        if (cursor) {
          link.href = "?cursor=" + encodeURIComponent(cursor);
          link.textContent = kind === "posts" ? "Older posts" : "More";
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

  window.Snapline = Object.assign(window.Snapline || {}, { csrfToken, el, refreshTimes, renderPost });

  document.addEventListener("DOMContentLoaded", () => {
    refreshTimes();
    setInterval(refreshTimes, 60 * 1000);
    for (const list of document.querySelectorAll("[data-feed]")) setupFeed(list);
  });
})();
