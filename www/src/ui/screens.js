// Shows one screen at a time and moves keyboard focus to its heading, so
// keyboard and screen-reader users land on the new content.

const SCREENS = ['identity', 'open', 'refused', 'document'];

/** Shows the screen with the given name and hides the others. */
export function showScreen(name) {
  for (const screen of SCREENS) {
    document.getElementById(`screen-${screen}`).hidden = screen !== name;
  }
  document.body.dataset.screen = name;
  const heading = document.querySelector(`#screen-${name} h2`);
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}
