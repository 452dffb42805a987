/**
 * The server part's answers, typed, and the calls that fetch them.
 */

import { ServerConnection } from '@jupyterlab/services';

import {
  availabilityPath,
  datasetsPath,
  filesPath,
  quicklookPath,
  templatePath,
  templatesPath
} from './apiPaths';
import { DatasetInfo, DayCount } from './catalogView';
import { requestBlob, requestJSON } from './request';
import { TemplateParameter } from './templateFields';
import { TimeRange } from './timeRange';

export interface DatasetsAnswer {
  datasets: DatasetInfo[];
  /** `prod` or `dev`: which buckets the catalog answers from. */
  stage: string;
  /** Buckets whose index could not be read (their datasets are missing). */
  warnings: string[];
}

export interface FileRow {
  filename: string;
  start: string;
  stop: string;
  filesize: number;
  version: string | null;
  url: string;
}

export interface FilesAnswer {
  dataset: string;
  start: string;
  stop: string;
  total: number;
  bytes: number;
  offset: number;
  limit: number;
  files: FileRow[];
}

export interface AvailabilityAnswer {
  dataset: string;
  start: string;
  stop: string;
  days: DayCount[];
}

export interface QuicklookVariable {
  name: string;
  dims: string[];
  units: string;
  description: string;
  /** The plot ds.soc.quicklook gives it: "time series", "spectrogram", "event list"... */
  kind: string;
}

export interface QuicklookSummary {
  dataset: string;
  start: string;
  stop: string;
  files: number;
  variables: QuicklookVariable[];
  /** The variable the PNG shows when none is asked for. */
  variable: string | null;
}

export interface TemplateInfo {
  name: string;
  file: string;
  title: string;
  description: string;
  parameters: TemplateParameter[];
  /** A free notebook name in the home folder for the copy. */
  suggested_name: string;
}

export class CatalogAPI {
  constructor(readonly settings: ServerConnection.ISettings) {}

  datasets(): Promise<DatasetsAnswer> {
    return requestJSON(datasetsPath(), this.settings);
  }

  files(dataset: string, range: TimeRange, offset: number, limit: number): Promise<FilesAnswer> {
    return requestJSON(filesPath(dataset, range, offset, limit), this.settings);
  }

  availability(dataset: string, window: TimeRange): Promise<AvailabilityAnswer> {
    return requestJSON(availabilityPath(dataset, window), this.settings);
  }

  quicklookSummary(dataset: string, range: TimeRange): Promise<QuicklookSummary> {
    return requestJSON(quicklookPath(dataset, range, 'json'), this.settings);
  }

  quicklookImage(dataset: string, range: TimeRange, variable?: string): Promise<Blob> {
    return requestBlob(quicklookPath(dataset, range, 'png', variable), this.settings);
  }

  templates(): Promise<{ templates: TemplateInfo[] }> {
    return requestJSON(templatesPath(), this.settings);
  }

  /** Copy a template into the home folder with these parameter values (as typed). */
  createFromTemplate(
    name: string,
    values: Record<string, string>,
    notebook: string
  ): Promise<{ path: string }> {
    return requestJSON(templatePath(name), this.settings, {
      method: 'POST',
      body: JSON.stringify({ parameters: values, name: notebook })
    });
  }
}
