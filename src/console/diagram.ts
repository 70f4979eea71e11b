/**
 * The machine diagram: laid out on the server by elkjs (layered, nested states as nested nodes,
 * every coordinate in the root's frame) and written as SVG text. The page loads no diagram
 * library. Every state is a `<g id="state-…" data-state="…">` and every transition a
 * `<g id="edge-…" data-edge="…">`, so tests, CSS and the page's script find them by the ids in
 * the machine model (dots become `__`, other unsafe characters `_`).
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkLabel, ElkNode } from 'elkjs/lib/elk-api';
import type { MachineModel, ModelTransition } from './machine-model';

/** State names and edge labels (px, console.css draws them at these sizes): readable at zoom 1. */
const FONT = 14;
const LABEL_FONT = 12.5;
/** Rough advance of one character (px) of the fonts above; the box need only be wide enough. */
const CHAR = 8.4;
const LABEL_CHAR = 7.4;
const PADDING = 24;

export interface DiagramLayout {
  width: number;
  height: number;
  states: Array<{
    id: string;
    name: string;
    x: number;
    y: number;
    width: number;
    height: number;
    final: boolean;
    compound: boolean;
  }>;
  initials: Array<{ id: string; x: number; y: number; r: number }>;
  edges: Array<{
    id: string;
    transition: ModelTransition | null;
    points: Array<{ x: number; y: number }>;
    label: { text: string; x: number; y: number; width: number; height: number } | null;
  }>;
}

/** A DOM id from a model id: `state-reserving`, `edge-reserving_SEATS_RESERVED_awaitingPayment`. */
export function domId(kind: 'state' | 'edge', id: string): string {
  return `${kind}-${id.replace(/\./g, '__').replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function labelOf(t: ModelTransition): string {
  return t.guard ? `${t.event} [${t.guard}]` : t.event;
}

/** Lays `model` out. Transitions that stay in their state are left out (the tables list them). */
export async function layoutDiagram(model: MachineModel): Promise<DiagramLayout> {
  const elk = new ELK();
  const nodes = new Map<string, ElkNode>();
  const root: ElkNode = {
    id: '__root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      // Room for the labels: elk places each edge label in its own slot between layers
      // (edgeLabels.inline false) on the side it picks (sideSelection), and keeps these distances,
      // so no two labels and no label and node overlap.
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      'elk.layered.spacing.edgeNodeBetweenLayers': '20',
      'elk.layered.spacing.edgeEdgeBetweenLayers': '14',
      'elk.spacing.nodeNode': '44',
      'elk.spacing.edgeNode': '18',
      'elk.spacing.edgeEdge': '14',
      'elk.spacing.edgeLabel': '6',
      'elk.spacing.labelLabel': '6',
      'elk.edgeLabels.inline': 'false',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.layered.edgeLabels.sideSelection': 'SMART_DOWN',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
    },
    children: [],
    edges: [],
  };
  const containerOf = (parent: string | null): ElkNode => (parent === null ? root : nodes.get(parent)!);
  const initialId = (parent: string | null) => `__initial:${parent ?? ''}`;
  for (const s of model.states) {
    const compound = model.states.some((c) => c.parent === s.id);
    const node: ElkNode = compound
      ? {
          id: s.id,
          labels: [{ text: s.name, width: s.name.length * CHAR, height: FONT + 4 }],
          layoutOptions: {
            'elk.padding': '[top=28,left=12,bottom=12,right=12]',
            'elk.nodeLabels.placement': 'INSIDE V_TOP H_CENTER',
          },
          children: [],
        }
      : { id: s.id, width: Math.max(100, s.name.length * CHAR + 30), height: 40 };
    nodes.set(s.id, node);
    containerOf(s.parent).children!.push(node);
  }
  // An initial dot per level that has one, with its arrow.
  const levels: Array<{ parent: string | null; initial: string }> = [{ parent: null, initial: model.initial }];
  for (const s of model.states) if (s.initial) levels.push({ parent: s.id, initial: s.initial });
  for (const level of levels) {
    containerOf(level.parent).children!.unshift({ id: initialId(level.parent), width: 12, height: 12 });
    root.edges!.push({
      id: `__start:${level.parent ?? ''}`,
      sources: [initialId(level.parent)],
      targets: [level.initial],
    });
  }
  for (const t of model.transitions) {
    if (t.target === null) continue;
    const text = labelOf(t);
    const label: ElkLabel = { text, width: text.length * LABEL_CHAR + 6, height: LABEL_FONT + 4 };
    root.edges!.push({ id: t.id, sources: [t.source], targets: [t.target], labels: [label] });
  }

  const laid = await elk.layout(root);
  const byTransition = new Map(model.transitions.map((t) => [t.id, t]));
  const layout: DiagramLayout = {
    width: (laid.width ?? 0) + PADDING * 2,
    height: (laid.height ?? 0) + PADDING * 2,
    states: [],
    initials: [],
    edges: [],
  };
  const finals = new Set(model.finalStates);
  const walk = (node: ElkNode): void => {
    for (const child of node.children ?? []) {
      const x = (child.x ?? 0) + PADDING;
      const y = (child.y ?? 0) + PADDING;
      if (child.id.startsWith('__initial:')) {
        layout.initials.push({ id: child.id, x: x + 6, y: y + 6, r: 6 });
      } else {
        const state = model.states.find((s) => s.id === child.id)!;
        layout.states.push({
          id: child.id,
          name: state.name,
          x,
          y,
          width: child.width ?? 0,
          height: child.height ?? 0,
          final: finals.has(child.id),
          compound: (child.children ?? []).length > 0,
        });
      }
      walk(child);
    }
  };
  walk(laid);
  const edgesOf = (node: ElkNode): ElkExtendedEdge[] => [
    ...(node.edges ?? []),
    ...(node.children ?? []).flatMap(edgesOf),
  ];
  for (const edge of edgesOf(laid)) {
    const section = edge.sections?.[0];
    if (!section) continue;
    const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint].map((p) => ({
      x: p.x + PADDING,
      y: p.y + PADDING,
    }));
    const l = edge.labels?.[0];
    layout.edges.push({
      id: edge.id,
      transition: byTransition.get(edge.id) ?? null,
      points,
      label:
        l && l.text
          ? {
              text: l.text,
              x: (l.x ?? 0) + PADDING,
              y: (l.y ?? 0) + PADDING,
              width: l.width ?? 0,
              height: l.height ?? 0,
            }
          : null,
    });
  }
  return layout;
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface DiagramMarks {
  /** The saga's current state: class `current`. */
  current?: string;
  /** Transitions this saga took: class `taken`. */
  taken?: ReadonlySet<string>;
  /** States it passed through: class `visited`. */
  visited?: ReadonlySet<string>;
  /** A number drawn on each state (sagas in it). */
  counts?: Readonly<Record<string, number>>;
}

/** The SVG text of a laid-out diagram with this saga's (or this overview's) marks. */
export function renderDiagram(layout: DiagramLayout, marks: DiagramMarks = {}): string {
  const out: string[] = [];
  const w = Math.ceil(layout.width);
  const h = Math.ceil(layout.height);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="machine-diagram" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="state machine diagram">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
  );
  // Compound states first, so their children draw over them.
  const states = [...layout.states].sort((a, b) => Number(b.compound) - Number(a.compound));
  for (const s of states) {
    const classes = ['state'];
    if (s.final) classes.push('final');
    if (s.compound) classes.push('compound');
    if (marks.current === s.id) classes.push('current');
    if (marks.visited?.has(s.id)) classes.push('visited');
    out.push(`<g id="${domId('state', s.id)}" data-state="${escapeXml(s.id)}" class="${classes.join(' ')}">`);
    out.push(
      `<rect x="${s.x.toFixed(1)}" y="${s.y.toFixed(1)}" width="${s.width.toFixed(1)}" height="${s.height.toFixed(1)}" rx="8"/>`,
    );
    if (s.final)
      out.push(
        `<rect class="final-inner" x="${(s.x + 3).toFixed(1)}" y="${(s.y + 3).toFixed(1)}" width="${(s.width - 6).toFixed(1)}" height="${(s.height - 6).toFixed(1)}" rx="6"/>`,
      );
    const ty = s.compound ? s.y + 18 : s.y + s.height / 2 + FONT / 3;
    out.push(
      `<text x="${(s.x + s.width / 2).toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="middle">${escapeXml(s.name)}</text>`,
    );
    const count = marks.counts?.[s.id];
    if (count !== undefined) {
      // Red only for sagas open in a state; a zero is grey, and the ended counts (last 24 h) neutral.
      const tone = count === 0 ? 'zero' : s.final ? 'ended' : 'open';
      out.push(
        `<g class="count ${tone}"><circle cx="${(s.x + s.width).toFixed(1)}" cy="${s.y.toFixed(1)}" r="11"/><text x="${(s.x + s.width).toFixed(1)}" y="${(s.y + 4).toFixed(1)}" text-anchor="middle">${count}</text></g>`,
      );
    }
    out.push('</g>');
  }
  for (const i of layout.initials)
    out.push(`<circle class="initial" cx="${i.x.toFixed(1)}" cy="${i.y.toFixed(1)}" r="${i.r}"/>`);
  for (const e of layout.edges) {
    const classes = ['edge'];
    if (e.transition === null) classes.push('start');
    if (marks.taken?.has(e.id)) classes.push('taken');
    const d = e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    const attrs = e.transition ? ` id="${domId('edge', e.id)}" data-edge="${escapeXml(e.id)}"` : '';
    out.push(`<g${attrs} class="${classes.join(' ')}"><path d="${d}" marker-end="url(#arrow)"/>`);
    if (e.label) {
      out.push(
        `<text class="edge-label" x="${(e.label.x + 3).toFixed(1)}" y="${(e.label.y + e.label.height - 4).toFixed(1)}">${escapeXml(e.label.text)}</text>`,
      );
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}
