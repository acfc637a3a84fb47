{{/* The base name of every object: the release name when it holds "vigil", else <release>-vigil. */}}
{{- define "vigil.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The pods' selector: stable across upgrades. */}}
{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object: Vigil's own, Helm's, and the user's extraLabels. */}}
{{- define "vigil.labels" -}}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/part-of: vigil
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "vigil.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* What Vigil does in the namespaces it manages: only the verbs and kinds it uses. The
     same rules go into the ClusterRole, or the Role when watchNamespace is set. */}}
{{- define "vigil.rules" -}}
# The stacks: read and watch; patch for finalizers; status by server-side apply.
- apiGroups: [observability.vigil.dev]
  resources: [observabilitystacks]
  verbs: [get, list, watch, patch]
- apiGroups: [observability.vigil.dev]
  resources: [observabilitystacks/status]
  verbs: [patch]
# Owner references with blockOwnerDeletion need this where that admission plugin runs.
- apiGroups: [observability.vigil.dev]
  resources: [observabilitystacks/finalizers]
  verbs: [update]
# What a stack becomes (server-side apply creates and patches; pruning deletes). Secrets
# are watched everywhere: the managed ones are cached, the ones stacks name wake them.
- apiGroups: [""]
  resources: [secrets, configmaps, services, serviceaccounts]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [daemonsets, deployments]
  verbs: [get, list, watch, create, patch, delete]
# Opt-in restarts (observability.vigil.dev/restart-on-rotation on a workload in a client's
# namespace): listed while pods there predate their client Secret, and their pod
# template's restartedAt patched. Deployments and DaemonSets are covered above.
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [list, patch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, patch, delete]
# With the Prometheus Operator: each stack's PrometheusRule and ServiceMonitor, read by
# name and applied (they go with their CRD or, by owner reference, with the stack).
- apiGroups: [monitoring.coreos.com]
  resources: [prometheusrules, servicemonitors]
  verbs: [get, create, patch]
# With spec.alerting.alertmanagerConfig: each stack's AlertmanagerConfig, read by name,
# applied, and deleted when the stack no longer asks for it.
- apiGroups: [monitoring.coreos.com]
  resources: [alertmanagerconfigs]
  verbs: [get, create, patch, delete]
# With spec.grafana.operator: each stack's GrafanaDatasources and GrafanaDashboard, read
# by name, applied, and deleted when the stack no longer asks for them.
- apiGroups: [grafana.integreatly.org]
  resources: [grafanadatasources, grafanadashboards]
  verbs: [get, create, patch, delete]
# Events on the stacks, counted when repeated; the DaemonSet controller's
# FailedCreate events, read while the collector misses pods (CollectorAvailable).
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch, list]
# Pods, read for the Secrets they use and their start time: a rotation's overlap ends when
# the pods using a client Secret restarted.
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch]
# The agents' API rights (k8sattributes): one RoleBinding per namespace a stack serves,
# to the ClusterRole vigil-collector, cached to compare and pruned; and the right to bind
# that ClusterRole and no other (Vigil holds none of its rights over replicasets).
- apiGroups: [rbac.authorization.k8s.io]
  resources: [rolebindings]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind]
  resourceNames: [vigil-collector]
# The gateway's PodDisruptionBudget, read by name, applied, and deleted with the gateway.
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, create, patch, delete]
{{- if eq .Values.watchNamespace "" }}
# Namespaces: their consent annotation (observability.vigil.dev/accept-stacks) decides where
# a stack may publish client Secrets.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
{{- end }}
{{- end -}}
