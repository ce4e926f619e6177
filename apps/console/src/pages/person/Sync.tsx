import { useState } from 'react';
import type { Person } from '../../api/types.ts';
import { SyncRun } from '../../components/SyncRun.tsx';
import { Field, Section } from '../../components/ui.tsx';

/**
 * "Re-run sync" for a connection the person belongs to: the role-mapping plugin's sync job
 * re-applies the mapping to every SCIM user of that connection (this person included), repairing
 * drift; when it finishes the person page is read again.
 */
export function PersonSync({ person, onFinished }: { person: Person; onFinished(): void }) {
  const choices = person.connections;
  const [selected, setSelected] = useState(choices[0]?.connectionId ?? '');
  if (!choices.length) return null;
  const chosen = choices.find((c) => c.connectionId === selected) ?? choices[0]!;
  const name = chosen.connectionName ?? chosen.connectionId;
  return (
    <Section title="Re-run sync">
      <p className="hint">
        Re-applies role mapping (attributes, group rules, defaults) to every SCIM user of the connection, this person included, as the scheduled sync
        does.
      </p>
      {choices.length > 1 ? (
        <div className="inline-form">
          <Field label="Connection to sync">
            {(props) => (
              <select {...props} value={chosen.connectionId} onChange={(e) => setSelected(e.target.value)}>
                {choices.map((c) => (
                  <option key={c.connectionId} value={c.connectionId}>
                    {c.connectionName ?? c.connectionId}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
      ) : (
        <p className="wrap">
          Connection: <strong>{name}</strong>
        </p>
      )}
      <SyncRun key={chosen.connectionId} connectionId={chosen.connectionId} connectionName={name} label="Re-run sync" onFinished={onFinished} />
    </Section>
  );
}
