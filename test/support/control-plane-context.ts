// What the globalSetup (main vitest process) hands to test workers through provide/inject, and
// the facts a started control plane has. Kept free of vitest and client-node imports so both
// sides can use it.

/** About one started control plane: the lines of the env file start-control-plane.sh writes. */
export interface ControlPlaneFacts {
  /** The admin kubeconfig path (static token in system:masters). */
  kubeconfig: string;
  apiserverUrl: string;
  caFile: string;
  caKeyFile: string;
  adminToken: string;
  /** The apiserver's JSON audit log. */
  auditLog: string;
  /** KUBECACHEDIR for kubectl, inside the work dir. */
  kubeCacheDir: string;
  workDir: string;
  binDir: string;
  /** Every KEY=VALUE line of WORK_DIR/env. */
  env: Readonly<Record<string, string>>;
  /** Wall time of unpack + start, as measured by the launcher. */
  startMs: number;
  /** Of which install.sh (unpacking or verifying the binaries); 0 with ROLLGUARD_K8S_BIN. */
  installMs: number;
}

export interface ControlPlaneContext {
  /** Present when the binaries were found: POST here to get (starting on first call) the control plane. */
  brokerUrl?: string;
  /** Why there is no control plane; set exactly when brokerUrl is not. */
  unavailable?: string;
  /** CI=true: a missing control plane fails the tests that need it instead of skipping them. */
  required: boolean;
  /** A directory of the current run, for the once-per-run skip notice. */
  runDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    rollguardControlPlane: ControlPlaneContext;
  }
}
