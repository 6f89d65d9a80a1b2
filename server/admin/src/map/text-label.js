// Leaflet puts string tooltips in as HTML; names typed by staff must go in as text.
export function textLabel(text) {
  const label = document.createElement("span");
  label.textContent = text;
  return label;
}
