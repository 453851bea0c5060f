import { LabIcon } from '@jupyterlab/ui-components';

/**
 * ScienceMesh: three sites meshed around a hub.
 *
 * Shapes carry Lab's `jp-icon3` class so the theme recolours them.
 */
const SCIENCEMESH_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <line class="jp-icon3" stroke="#616161" stroke-width="1.6" stroke-linecap="round" x1="5" y1="6" x2="19" y2="6"/>
  <line class="jp-icon3" stroke="#616161" stroke-width="1.6" stroke-linecap="round" x1="5" y1="6" x2="12" y2="19"/>
  <line class="jp-icon3" stroke="#616161" stroke-width="1.6" stroke-linecap="round" x1="19" y1="6" x2="12" y2="19"/>
  <line class="jp-icon3" stroke="#616161" stroke-width="1.6" stroke-linecap="round" x1="5" y1="6" x2="12" y2="12"/>
  <line class="jp-icon3" stroke="#616161" stroke-width="1.6" stroke-linecap="round" x1="19" y1="6" x2="12" y2="12"/>
  <line class="jp-icon3" stroke="#616161" stroke-width="1.6" stroke-linecap="round" x1="12" y1="12" x2="12" y2="19"/>
  <circle class="jp-icon3" fill="#616161" cx="5" cy="6" r="3"/>
  <circle class="jp-icon3" fill="#616161" cx="19" cy="6" r="3"/>
  <circle class="jp-icon3" fill="#616161" cx="12" cy="19" r="3"/>
  <circle class="jp-icon3" fill="#616161" cx="12" cy="12" r="2"/>
</svg>`;

export const sciencemeshIcon = new LabIcon({
  name: 'mesh-zenodo:sciencemesh',
  svgstr: SCIENCEMESH_SVG
});

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
