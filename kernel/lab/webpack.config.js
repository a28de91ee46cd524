// Builds the JupyterLab front end of the repdyn kernel into build/: one
// bundle.js with the plugins listed in package.json's "jupyterlab" field,
// plus the settings schemas and theme CSS that jupyterlab-server serves
// (copied by @jupyterlab/builder's Build.ensureAssets). repdyn_lab.py
// serves build/ with Debian's jupyterlab-server.
const path = require('path');
const webpack = require('webpack');
const { Build } = require('@jupyterlab/builder');
const lab = require('./package.json').jupyterlab;

// build.sh builds into a new folder and swaps it in when complete.
const out = path.resolve(process.env.REPDYN_LAB_OUT || path.join(__dirname, 'build'));

// Schemas go to build/schemas, themes to build/themes; the theme configs it
// returns are built alongside the bundle.
const assetConfigs = Build.ensureAssets({
  packageNames: [...lab.extensions, ...lab.mimeExtensions],
  output: out,
  hashFunction: 'sha256',
});

module.exports = [
  {
    mode: process.env.REPDYN_LAB_MODE || 'production',
    entry: './index.js',
    output: {
      path: out,
      filename: 'bundle.js',
      chunkFilename: '[name].[contenthash].js',
      hashFunction: 'sha256',
    },
    devtool: false,
    bail: true,
    performance: { hints: false },
    resolve: {
      alias: { 'repdyn-lab-style': path.join(out, 'style.js') },
      fallback: { path: require.resolve('path-browserify') },
    },
    module: {
      rules: [
        { test: /\.css$/, use: ['style-loader', 'css-loader'] },
        // Icons: raw SVG text when imported from JavaScript, data URIs in CSS.
        { test: /\.svg$/, issuer: /\.css$/, type: 'asset/inline' },
        { test: /\.svg$/, issuer: /\.[cm]?js$/, type: 'asset/source' },
        { test: /\.md$/, type: 'asset/source' },
        { test: /\.(png|jpe?g|gif|ico|cur|woff2?|ttf|eot)(\?.*)?$/, type: 'asset' },
      ],
    },
    plugins: [
      new webpack.ProvidePlugin({ process: 'process/browser.js' }),
    ],
  },
].concat(assetConfigs);
