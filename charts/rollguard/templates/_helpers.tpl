{{- define "rollguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* 48 characters leave room for the longest suffix, "-webhook-token", within a 63-character name. */}}
{{- define "rollguard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rollguard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rollguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rollguard.labels" -}}
helm.sh/chart: {{ include "rollguard.chart" . }}
{{ include "rollguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "rollguard.webhookServiceAccount" -}}
{{- default (printf "%s-webhook" (include "rollguard.fullname" .)) .Values.webhook.serviceAccount.name }}
{{- end }}

{{- define "rollguard.agentServiceAccount" -}}
{{- default (printf "%s-agent" (include "rollguard.fullname" .)) .Values.agent.serviceAccount.name }}
{{- end }}

{{- define "rollguard.webhookService" -}}
{{- printf "%s-webhook" (include "rollguard.fullname" .) }}
{{- end }}

{{- define "rollguard.agentService" -}}
{{- printf "%s-agent" (include "rollguard.fullname" .) }}
{{- end }}

{{/* The Secret the webhook serves from: the chart's own (generate, cert-manager) or the admin's. */}}
{{- define "rollguard.tlsSecret" -}}
{{- if eq .Values.certs.mode "existingSecret" }}
{{- required "certs.existingSecret.name is required with certs.mode existingSecret" .Values.certs.existingSecret.name }}
{{- else }}
{{- printf "%s-webhook-tls" (include "rollguard.fullname" .) }}
{{- end }}
{{- end }}

{{/* The names the serving certificate must carry, as {"names": [...]}: the Service's, as the apiserver dials it. */}}
{{- define "rollguard.certDnsNames" -}}
{{- $svc := include "rollguard.webhookService" . }}
{{- $names := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) }}
{{- dict "names" (concat $names .Values.certs.extraDnsNames) | toJson }}
{{- end }}

{{/* The agent's Lease: a fixed name in the agent (src/agent/agent.ts), and its Role names it. */}}
{{- define "rollguard.leaseName" -}}
rollguard-agent
{{- end }}

{{/* Where both containers read the policy: the chart's policy file, or the policy objects (R11). */}}
{{- define "rollguard.policyArgs" -}}
{{- if eq .Values.policySource "crd" -}}
- --policy-source
- crd
{{- else -}}
- --policy
- /etc/rollguard/policy/policy.yaml
{{- end -}}
{{- end }}

{{/*
NODE_OPTIONS for a container, from its resources: V8's young generation kept small (its default
grows to tens of MB of RSS that a Pod sized for rollguard does not have), and the old generation
capped at three quarters of the memory limit (Mi or Gi), so V8 collects before the kubelet kills.
*/}}
{{- define "rollguard.nodeOptions" -}}
{{- $memory := toString ((default dict .limits).memory | default "") -}}
{{- $mi := 0 -}}
{{- if hasSuffix "Mi" $memory }}{{ $mi = trimSuffix "Mi" $memory | int }}{{ else if hasSuffix "Gi" $memory }}{{ $mi = mul (trimSuffix "Gi" $memory | int) 1024 }}{{ end -}}
--max-semi-space-size=2{{ if gt $mi 0 }} --max-old-space-size={{ div (mul $mi 3) 4 }}{{ end }}
{{- end }}
