import type { JobStatus } from '../api/job-view.js';

export function ProgressBar({ progress, status, stage }: { progress: number; status: JobStatus; stage?: string | null }) {
  const pct = Math.round(Math.max(0, Math.min(1, progress)) * 100);
  return (
    <div className="progress" title={stage ? `${pct}% · ${stage}` : `${pct}%`}>
      <div className="progress-track" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div className={`progress-fill progress-${status}`} style={{ width: `${pct}%` }} />
      </div>
      <span className="progress-label">
        {pct}%{stage && status === 'running' ? ` · ${stage}` : ''}
      </span>
    </div>
  );
}
