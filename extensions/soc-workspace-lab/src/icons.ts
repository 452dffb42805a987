/** The data browser's icon: a catalog (stacked records) under an orbit. */

import { LabIcon } from '@jupyterlab/ui-components';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <ellipse cx="12" cy="7" rx="7" ry="2.6"/>
    <path d="M5 9.2c1.3 1.2 4 1.9 7 1.9s5.7-.7 7-1.9v3.1c0 1.4-3.1 2.6-7 2.6s-7-1.2-7-2.6z"/>
    <path d="M5 14.4c1.3 1.2 4 1.9 7 1.9s5.7-.7 7-1.9v3.1c0 1.4-3.1 2.6-7 2.6s-7-1.2-7-2.6z"/>
  </g>
  <path class="jp-icon-accent2" fill="none" stroke="#f57c00" stroke-width="1.2"
    d="M2.5 15.5C.5 12.5 6 6.8 14 4.3s12.1-.4 8.6 3.7"/>
</svg>`;

export const dataBrowserIcon = new LabIcon({ name: 'soc-workspace-lab:data', svgstr: svg });
