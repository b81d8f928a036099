// uPlot's browser build and stylesheet, bundled as text (see [[rules]] in wrangler.toml).
import uplotScript from 'uplot/dist/uPlot.iife.min.js';
import uplotStyle from 'uplot/dist/uPlot.min.css';

export { uplotScript, uplotStyle };
