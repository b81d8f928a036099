// Files bundled as text (see [[rules]] in wrangler.toml): their default export is the file's content.
declare module 'uplot/dist/uPlot.iife.min.js' {
  const text: string;
  export default text;
}
declare module 'uplot/dist/uPlot.min.css' {
  const text: string;
  export default text;
}
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const text: string;
  export default text;
}
declare module 'swagger-ui-dist/swagger-ui.css' {
  const text: string;
  export default text;
}
/** The dashboard's own browser scripts (functions/dashboard/*.browser.js). */
declare module '*.browser.js' {
  const text: string;
  export default text;
}
