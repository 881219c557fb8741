import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "highlight.js/styles/github.css";
import "./styles.css";
import { captureToken } from "./api";
import { App } from "./App";

captureToken();
createRoot(document.getElementById("root")!).render(<StrictMode><App /></StrictMode>);
