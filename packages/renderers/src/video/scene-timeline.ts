export type Transition = 'cut' | 'fade' | 'slide';

export interface TimelineSceneInput {
  durationMs: number;
  transition: Transition;
  transitionMs: number;
}

export interface TimelineClip {
  /** First frame of the scene's own time. */
  startFrame: number;
  /** Frames of the scene's own time (start of the next scene minus its start). */
  sceneFrames: number;
  /** Frames of the transition into the next scene: 0 for a cut and for the last scene. */
  transitionFrames: number;
  transition: Transition;
  /**
   * Length of the still clip fed to ffmpeg: the scene's own frames plus the transition into the
   * next one, during which this scene stays underneath while the next one comes in.
   */
  clipFrames: number;
}

export interface Timeline {
  fps: number;
  clips: TimelineClip[];
  totalFrames: number;
  /** Exactly `totalFrames / fps`, in ms. */
  totalMs: number;
}

/**
 * Lays the scenes out in whole frames.
 *
 * How time is counted: scene N starts at the sum of the durations before it and the video lasts
 * the sum of all durations. A transition into the next scene begins at that scene's start and
 * plays over the first `transitionMs` of its time, so transitions never lengthen or shorten the
 * video. Boundaries are rounded from the running total in ms (not per scene), so rounding never
 * accumulates: the total is within half a frame of the requested sum.
 *
 * In ffmpeg terms (xfade output = offset + length of the second input), each still clip is held
 * for its own frames plus its outgoing transition and each xfade's offset is the next scene's
 * start, so the chained result is exactly `totalFrames` long.
 */
export function planTimeline(scenes: TimelineSceneInput[], fps: number): Timeline {
  const boundaries: number[] = [0];
  let elapsedMs = 0;
  for (const scene of scenes) {
    elapsedMs += scene.durationMs;
    boundaries.push(Math.round((elapsedMs * fps) / 1000));
  }
  const clips = scenes.map((scene, i) => {
    const startFrame = boundaries[i]!;
    const sceneFrames = Math.max(1, boundaries[i + 1]! - startFrame);
    const next = i + 1 < scenes.length ? Math.max(1, boundaries[i + 2]! - boundaries[i + 1]!) : 0;
    const transition: Transition = next === 0 ? 'cut' : scene.transition;
    // At least one frame, and never longer than the next scene, which it plays over.
    const transitionFrames = transition === 'cut' ? 0 : Math.min(next, Math.max(1, Math.round((scene.transitionMs * fps) / 1000)));
    return { startFrame, sceneFrames, transitionFrames, transition, clipFrames: sceneFrames + transitionFrames };
  });
  const last = clips.at(-1)!;
  const totalFrames = last.startFrame + last.sceneFrames;
  return { fps, clips, totalFrames, totalMs: (totalFrames * 1000) / fps };
}

/** A frame count as seconds for ffmpeg, exact enough that `× fps` rounds back to the same frame. */
export function framesToSeconds(frames: number, fps: number): string {
  return (frames / fps).toFixed(6);
}
