// Component tests wait for what the user would see; on a busy machine a
// debounce and a render can take longer than Testing Library's default second.
import { configure } from "@testing-library/react";

configure({ asyncUtilTimeout: 5000 });
