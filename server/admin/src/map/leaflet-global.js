// leaflet-geoman is published as a script that extends the global `L`; give it one before it loads.
// Import Leaflet from here, and geoman after this module, in every file that needs them.
import L from "leaflet";

window.L = L;

export default L;
