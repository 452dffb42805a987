/**
 * The SOC data browser, a panel of the left sidebar: missions -> instruments -> datasets, a
 * time-range picker, the availability strip of the chosen dataset, its files page by page,
 * and the actions on the selection (insert code, quicklook, copy a file's URL).
 */

import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { CatalogAPI, FilesAnswer } from './api';
import {
  DatasetInfo,
  DayCount,
  MissionNode,
  datasetLabel,
  formatBytes,
  formatTime,
  groupDatasets,
  nextOffset,
  pageLabel,
  previousOffset,
  selectionTitle,
  spanLabel,
  stripCells,
  stripTitle,
  stripWindow
} from './catalogView';
import { Selection } from './code';
import { dataBrowserIcon } from './icons';
import {
  Span,
  TimeRange,
  dayRange,
  latestDay,
  parseUtc,
  rangeProblem,
  spanFrom,
  toInputValue,
  toIso
} from './timeRange';

/** Files per page of the table. */
export const PAGE_SIZE = 50;

/** What the panel asks of JupyterLab. */
export interface BrowserActions {
  insertCode(selection: Selection): Promise<void>;
  quicklook(selection: Selection): void;
  copy(text: string): void;
}

export class DataBrowser extends ReactWidget {
  constructor(
    private readonly api: CatalogAPI,
    private readonly actions: BrowserActions
  ) {
    super();
    this.id = 'soc-workspace-data-browser';
    this.addClass('soc-DataBrowser');
    this.title.icon = dataBrowserIcon;
    this.title.caption = 'SOC data';
  }

  protected render(): React.ReactElement {
    return <BrowserView api={this.api} actions={this.actions} />;
  }
}

interface Props {
  api: CatalogAPI;
  actions: BrowserActions;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `load` when `key` changes; only the answer of the latest call is kept. */
function useLatest<T>(
  key: string | null,
  load: () => Promise<T>
): { value: T | null; error: string | null; busy: boolean } {
  const [state, setState] = React.useState<{
    value: T | null;
    error: string | null;
    busy: boolean;
  }>({ value: null, error: null, busy: false });
  React.useEffect(() => {
    if (key === null) {
      setState({ value: null, error: null, busy: false });
      return;
    }
    let current = true;
    setState(previous => ({ ...previous, busy: true }));
    load().then(
      value => current && setState({ value, error: null, busy: false }),
      error => current && setState({ value: null, error: messageOf(error), busy: false })
    );
    return () => {
      current = false;
    };
  }, [key]);
  return state;
}

function BrowserView({ api, actions }: Props): React.ReactElement {
  const [reload, setReload] = React.useState(0);
  const datasets = useLatest(`datasets-${reload}`, () => api.datasets());
  const [chosen, setChosen] = React.useState<DatasetInfo | null>(null);
  const [startText, setStartText] = React.useState('');
  const [stopText, setStopText] = React.useState('');
  const [offset, setOffset] = React.useState(0);
  const [selectedUrl, setSelectedUrl] = React.useState<string | null>(null);
  const [notice, setNotice] = React.useState<string | null>(null);

  const start = parseUtc(startText);
  const stop = parseUtc(stopText);
  const problem = chosen ? rangeProblem(start, stop) : null;
  const range: TimeRange | null = chosen && !problem ? { start: start!, stop: stop! } : null;
  const rangeKey = range ? `${toIso(range.start)}/${toIso(range.stop)}` : null;
  const stripRange = range ? stripWindow(range) : null;

  const files = useLatest<FilesAnswer>(
    chosen && range ? `${chosen.dataset}/${rangeKey}/${offset}` : null,
    () => api.files(chosen!.dataset, range!, offset, PAGE_SIZE)
  );
  const strip = useLatest<{ days: DayCount[] }>(
    chosen && stripRange
      ? `${chosen.dataset}/${toIso(stripRange.start)}/${toIso(stripRange.stop)}`
      : null,
    () => api.availability(chosen!.dataset, stripRange!)
  );

  const setRange = (next: TimeRange): void => {
    setStartText(toInputValue(next.start));
    setStopText(toInputValue(next.stop));
    setOffset(0);
    setSelectedUrl(null);
  };

  const choose = (info: DatasetInfo): void => {
    setChosen(info);
    setOffset(0);
    setSelectedUrl(null);
    setNotice(null);
    if (!range) {
      const first = latestDay(info.start, info.stop);
      if (first) {
        setRange(first);
      }
    }
  };

  /** A picker's change: the new text, and the first page again. */
  const typed =
    (set: (text: string) => void) =>
    (text: string): void => {
      set(text);
      setOffset(0);
    };

  const setSpan = (span: Span): void => {
    if (start) {
      setRange(spanFrom(start, span));
    }
  };

  const shift = (direction: 1 | -1): void => {
    if (range) {
      const length = range.stop.getTime() - range.start.getTime();
      setRange({
        start: new Date(range.start.getTime() + direction * length),
        stop: new Date(range.stop.getTime() + direction * length)
      });
    }
  };

  const selection: Selection | null =
    chosen && range ? { dataset: chosen.dataset, title: selectionTitle(chosen), range } : null;
  const page = files.value;

  const insert = async (): Promise<void> => {
    if (selection) {
      try {
        await actions.insertCode(selection);
        setNotice('Code inserted into the notebook.');
      } catch (error) {
        setNotice(`Could not insert the code: ${messageOf(error)}`);
      }
    }
  };

  return (
    <div className="soc-DataBrowser-body">
      <header className="soc-DataBrowser-header">
        <h2>SOC data</h2>
        <button
          className="soc-Button soc-mod-quiet"
          title="Read the catalog again"
          onClick={() => setReload(reload + 1)}
        >
          Refresh
        </button>
      </header>
      {datasets.error && <ErrorBox message={datasets.error} />}
      {datasets.value?.warnings.map(w => <ErrorBox key={w} message={w} />)}
      {datasets.busy && !datasets.value && <p className="soc-Status">Reading the catalog…</p>}
      {datasets.value && (
        <Tree
          missions={groupDatasets(datasets.value.datasets)}
          chosen={chosen?.dataset ?? null}
          onChoose={choose}
        />
      )}
      {chosen && (
        <section className="soc-Selection" aria-label="Selection">
          <h3 className="soc-Selection-title">{selectionTitle(chosen)}</h3>
          <div className="soc-Picker">
            <TimeInput
              label="Start (UTC)"
              name="start"
              value={startText}
              onChange={typed(setStartText)}
            />
            <TimeInput
              label="Stop (UTC)"
              name="stop"
              value={stopText}
              onChange={typed(setStopText)}
            />
            <div className="soc-Picker-spans">
              <button className="soc-Button" title="Earlier" onClick={() => shift(-1)}>
                ‹
              </button>
              {(['day', 'week', 'month'] as Span[]).map(span => (
                <button
                  key={span}
                  className="soc-Button"
                  title={`A ${span} from the start`}
                  onClick={() => setSpan(span)}
                >
                  {span[0].toUpperCase() + span.slice(1)}
                </button>
              ))}
              <button className="soc-Button" title="Later" onClick={() => shift(1)}>
                ›
              </button>
            </div>
          </div>
          {problem && <ErrorBox message={problem} />}
          {strip.error && strip.error !== files.error && <ErrorBox message={strip.error} />}
          {range && stripRange && strip.value && (
            <Strip
              days={strip.value.days}
              range={range}
              title={stripTitle(stripRange)}
              onPick={day => setRange(dayRange(new Date(`${day}T00:00:00Z`)))}
            />
          )}
          {files.error && <ErrorBox message={files.error} />}
          {page && (
            <FileTable
              page={page}
              selectedUrl={selectedUrl}
              busy={files.busy}
              onSelect={setSelectedUrl}
              onOffset={setOffset}
            />
          )}
          <div className="soc-Actions">
            <button
              className="soc-Button soc-mod-accept"
              disabled={!selection || !page || page.total === 0}
              title="Put code that opens this selection into the active notebook"
              onClick={insert}
            >
              Insert code
            </button>
            <button
              className="soc-Button"
              disabled={!selection || !page || page.total === 0}
              title="Plot this selection in a side panel"
              onClick={() => selection && actions.quicklook(selection)}
            >
              Quicklook
            </button>
            <button
              className="soc-Button"
              disabled={!selectedUrl}
              title={selectedUrl ? `Copy ${selectedUrl}` : 'Select a file first'}
              onClick={() => {
                if (selectedUrl) {
                  actions.copy(selectedUrl);
                  setNotice(`Copied ${selectedUrl}`);
                }
              }}
            >
              Copy URL
            </button>
          </div>
          {notice && <p className="soc-Status">{notice}</p>}
        </section>
      )}
    </div>
  );
}

function TimeInput(props: {
  label: string;
  name: string;
  value: string;
  onChange: (text: string) => void;
}): React.ReactElement {
  return (
    <label>
      {props.label}
      <input
        type="datetime-local"
        name={props.name}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
      />
    </label>
  );
}

function ErrorBox({ message }: { message: string }): React.ReactElement {
  return (
    <div className="soc-Error" role="alert">
      {message}
    </div>
  );
}

function Tree(props: {
  missions: MissionNode[];
  chosen: string | null;
  onChoose: (info: DatasetInfo) => void;
}): React.ReactElement {
  if (props.missions.length === 0) {
    return <p className="soc-Status">The catalog has no datasets.</p>;
  }
  return (
    <div className="soc-Tree" role="tree">
      {props.missions.map(mission => (
        <details key={mission.name} className="soc-Tree-mission" open>
          <summary title={mission.title}>{mission.name.toUpperCase()}</summary>
          {mission.instruments.map(instrument => (
            <details key={instrument.name} className="soc-Tree-instrument">
              <summary title={instrument.title}>
                {instrument.name.toUpperCase()}
                <span className="soc-Tree-note">{instrument.title}</span>
              </summary>
              <ul>
                {instrument.datasets.map(info => (
                  <li key={info.dataset}>
                    <button
                      className="soc-Dataset"
                      data-dataset={info.dataset}
                      aria-pressed={props.chosen === info.dataset}
                      title={info.dataset}
                      onClick={() => props.onChoose(info)}
                    >
                      <span className="soc-Dataset-name">{datasetLabel(info)}</span>
                      <span className="soc-Dataset-span">{spanLabel(info)}</span>
                      {info.files !== null && (
                        <span className="soc-Dataset-files">{info.files} files</span>
                      )}
                    </button>
                  </li>
                ))}
              </ul>
            </details>
          ))}
        </details>
      ))}
    </div>
  );
}

function Strip(props: {
  days: DayCount[];
  range: TimeRange;
  title: string;
  onPick: (day: string) => void;
}): React.ReactElement {
  const cells = stripCells(props.days, props.range);
  return (
    <div className="soc-Strip" aria-label="Availability">
      <div className="soc-Strip-title">Availability, {props.title}</div>
      <div className="soc-Strip-cells">
        {cells.map(cell => (
          <button
            key={cell.day}
            className={
              `soc-Strip-cell soc-mod-level${cell.level}` +
              (cell.selected ? ' soc-mod-selected' : '')
            }
            title={cell.title}
            data-day={cell.day}
            data-files={cell.files}
            onClick={() => props.onPick(cell.day)}
          />
        ))}
      </div>
      {cells.length > 0 && (
        <div className="soc-Strip-axis">
          <span>{cells[0].day}</span>
          <span>{cells[cells.length - 1].day}</span>
        </div>
      )}
    </div>
  );
}

function PageButton(props: {
  offset: number | null;
  title: string;
  onOffset: (offset: number) => void;
  children: React.ReactNode;
}): React.ReactElement {
  const { offset } = props;
  return (
    <button
      className="soc-Button"
      disabled={offset === null}
      title={props.title}
      onClick={() => offset !== null && props.onOffset(offset)}
    >
      {props.children}
    </button>
  );
}

function FileTable(props: {
  page: FilesAnswer;
  selectedUrl: string | null;
  busy: boolean;
  onSelect: (url: string) => void;
  onOffset: (offset: number) => void;
}): React.ReactElement {
  const { page } = props;
  const previous = previousOffset(page);
  const next = nextOffset(page);
  return (
    <div className={'soc-Files' + (props.busy ? ' soc-mod-busy' : '')}>
      <div className="soc-Pager">
        <PageButton offset={previous} title="Previous page" onOffset={props.onOffset}>
          ‹
        </PageButton>
        <span className="soc-Pager-label">
          {pageLabel(page)}
          {page.total > 0 && `, ${formatBytes(page.bytes)}`}
        </span>
        <PageButton offset={next} title="Next page" onOffset={props.onOffset}>
          ›
        </PageButton>
      </div>
      <div className="soc-Files-heading">name · start (UTC) · size · version</div>
      <ol className="soc-Files-list">
        {page.files.map(file => (
          <li
            key={file.url}
            className={file.url === props.selectedUrl ? 'soc-mod-selected' : ''}
            aria-selected={file.url === props.selectedUrl}
            title={file.url}
            onClick={() => props.onSelect(file.url)}
          >
            <span className="soc-Files-name">{file.filename}</span>
            <span className="soc-Files-meta">
              {formatTime(file.start)} · {formatBytes(file.filesize)}
              {file.version ? ` · v${file.version}` : ''}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
