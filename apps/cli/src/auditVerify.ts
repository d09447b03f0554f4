import { type ChainedAuditEvent, type ChainVerdict, verifyAuditChain } from '@fjord/contracts';

/** The export's lines as events; a line that is not an event is itself a broken chain. */
export function parseAuditExport(ndjson: string): ChainedAuditEvent[] {
  return ndjson
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as ChainedAuditEvent;
      } catch {
        throw new Error(`line ${i + 1} of the export is not JSON`);
      }
    });
}

/** What `fjord audit verify` prints, and whether it succeeded. */
export function auditVerdictReport(chain: string, verdict: ChainVerdict): { ok: boolean; text: string } {
  if (!verdict.ok)
    return {
      ok: false,
      text: `audit chain ${chain} is broken at event ${verdict.eventId}: ${verdict.reason}`,
    };
  const legacy = verdict.legacy ? ` (${verdict.legacy} recorded before chains existed are not covered)` : '';
  return { ok: true, text: `audit chain ${chain}: ${verdict.events} events verified${legacy}` };
}

export function verifyAuditExport(chain: string, ndjson: string): { ok: boolean; text: string } {
  return auditVerdictReport(chain, verifyAuditChain(parseAuditExport(ndjson)));
}
