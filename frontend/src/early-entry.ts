// index.html's first script: starts the first screen's requests (early.ts).
import { startEarly } from "./early";

window.collabadminEarly = startEarly(window.location.pathname, window.location.search);
