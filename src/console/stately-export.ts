/**
 * The order saga's machine as XState code, for Stately's editor (it imports `createMachine(...)`
 * code, not a JSON file): the machine's own config, with every guard and action that is code
 * (an inline function) written as its name, since code cannot travel as data. Named guards and
 * actions (strings, `{ type, params }`) stay as they are; their implementations live in
 * machines/order-saga/ and Stately shows them as names.
 */
import { isKnownMachineVersion, machineVersion, START_VERSION } from '../../machines/order-saga';

/** The config of `version` as JSON text, functions replaced by `{ type: <name> }`. */
export function machineConfigJson(version: string = START_VERSION): string {
  if (!isKnownMachineVersion(version)) throw new Error(`machine version ${version} is not in this build`);
  const { machine } = machineVersion(version);
  return JSON.stringify(
    machine.config,
    (_key, value: unknown) =>
      typeof value === 'function' ? { type: (value as { name?: string }).name || 'inline' } : value,
    2,
  );
}

/** A TypeScript module Stately's editor imports: `export const machine = createMachine({...})`. */
export function statelyMachineSource(version: string = START_VERSION): string {
  return `// EventTicket order saga, machine version ${version}, for Stately's editor (from the console's
// machine page). Guards and actions are named only: their code is in machines/order-saga/ of the
// EventTicket repository.
import { createMachine } from 'xstate';

export const machine = createMachine(${machineConfigJson(version)});
`;
}
