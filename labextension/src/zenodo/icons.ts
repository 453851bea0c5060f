import { LabIcon } from '@jupyterlab/ui-components';

/**
 * Zenodo: a bold "Z" in a rounded frame. The shapes carry Lab's `jp-icon3`
 * class so the theme recolours them.
 */
const ZENODO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <rect class="jp-icon3" style="fill: none" stroke="#616161" stroke-width="1.8" x="2.5" y="2.5" width="19" height="19" rx="4.5"/>
  <path class="jp-icon3" fill="#616161" d="M7 6.5h10v2.1l-6.9 6.9H17v2H7v-2.1l6.9-6.9H7z"/>
</svg>`;

export const zenodoIcon = new LabIcon({
  name: 'mesh-zenodo:zenodo',
  svgstr: ZENODO_SVG
});
