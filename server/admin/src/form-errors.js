// Server errors shown where they belong: beside the field they concern (an element
// [data-error-for=field] inside the form), the rest in the form's [data-error-for=form] line.
export function clearErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]"))
    input.removeAttribute("aria-invalid");
}

export function showErrors(form, error) {
  clearErrors(form);
  const unplaced = [];
  for (const [field, message] of Object.entries(error.fieldErrors ?? {})) {
    const slot = form.querySelector(`[data-error-for="${field}"]`);
    if (!slot) {
      unplaced.push(message);
      continue;
    }
    slot.textContent = message;
    form.querySelector(`[name="${field}"]`)?.setAttribute("aria-invalid", "true");
  }
  const placedAny = Object.keys(error.fieldErrors ?? {}).length > unplaced.length;
  const general = form.querySelector('[data-error-for="form"]');
  if (general && (!placedAny || unplaced.length)) {
    general.textContent = unplaced.length ? unplaced.join("; ") : error.message;
  }
}
