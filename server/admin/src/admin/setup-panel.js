// Creating a store, and a floor with its plan image and size in metres.
import { clearErrors, showErrors } from "../form-errors.js";

export class SetupPanel {
  constructor(api, context, reload) {
    this.api = api;
    this.context = context;
    this.reload = reload;
    this.storeForm = document.getElementById("store-form");
    this.floorForm = document.getElementById("floor-form");
    this.storeForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this.createStore();
    });
    this.floorForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this.createFloor();
    });
  }

  async createStore() {
    const f = this.storeForm.elements;
    clearErrors(this.storeForm);
    try {
      const store = await this.api.createStore({ name: f.name.value, timezone: f.timezone.value });
      this.storeForm.reset();
      await this.reload({ storeId: store.id });
    } catch (error) {
      showErrors(this.storeForm, error);
    }
  }

  async createFloor() {
    const { store } = this.context();
    const f = this.floorForm.elements;
    clearErrors(this.floorForm);
    if (!store) {
      showErrors(this.floorForm, { message: "create a store first", fieldErrors: {} });
      return;
    }
    try {
      const floor = await this.api.createFloor(store.id, {
        name: f.name.value,
        width_m: Number(f.width_m.value),
        height_m: Number(f.height_m.value),
      });
      const image = f.image.files[0];
      if (image) await this.api.uploadPlanImage(store.id, floor.id, image);
      this.floorForm.reset();
      await this.reload({ storeId: store.id, floorId: floor.id });
    } catch (error) {
      showErrors(this.floorForm, error);
    }
  }
}
