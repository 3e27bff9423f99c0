/** R6: the exact command a human (or the apply button) runs to roll back. */
export function rolloutUndoCommand(namespace: string, name: string, toRevision: number): string {
  return `kubectl rollout undo deployment/${name} -n ${namespace} --to-revision=${toRevision}`;
}
