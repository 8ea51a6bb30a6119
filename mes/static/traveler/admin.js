// A wide tabular inline scrolls sideways in its box at tablet width (admin.css). A read-only one holds
// nothing focusable, so a keyboard could not scroll it: the box itself takes the focus, named after its
// inline's heading (WCAG 2.1.1; axe's scrollable-region-focusable).
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll(".inline-group .tabular")) {
    if (box.querySelector("a[href], button, input:not([type=hidden]), select, textarea")) continue;
    const heading = box.querySelector("h2");
    box.tabIndex = 0;
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
  }
});
