// The public course page as students see it. In a draft preview, the admin
// embeds this page in an iframe and hands it the merged record with
// postMessage; only messages from this page's own origin are accepted.
(function () {
  "use strict";
  var root = document.getElementById("course");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function formatDate(value) {
    if (!value) return "Start date to be announced";
    var date = new Date(value + "T00:00:00");
    if (isNaN(date.getTime())) return String(value);
    return "Starts " + date.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
  }

  function render(course) {
    root.replaceChildren();
    root.appendChild(el("div", "kicker", course.short_name || "New course"));
    root.appendChild(el("h1", "", course.title || "Untitled course"));
    var facts = el("div", "facts");
    facts.appendChild(el("span", "badge " + (course.status || ""), course.status === "open" ? "Enrolment open" : course.status || "draft"));
    facts.appendChild(el("span", "start", formatDate(course.start_date)));
    root.appendChild(facts);
    root.appendChild(el("div", "description", course.description || "No description yet."));
    document.title = course.title || "Course";
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) return;
    var data = event.data;
    if (data && data.type === "collabadmin:preview" && data.record) render(data.record);
  });

  if (window.parent !== window) {
    window.parent.postMessage({ type: "collabadmin:preview-ready" }, window.location.origin);
  }
})();
