{{/*
The service's one name (folder = package = image = alias = OTEL_SERVICE_NAME = consumer group).
*/}}
{{- define "vtv.name" -}}
{{- .Values.name | default .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<name>: names every object of this service. */}}
{{- define "vtv.fullname" -}}
{{- printf "%s-%s" .Release.Name (include "vtv.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The in-cluster address of another service of the same release. */}}
{{- define "vtv.peerHost" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vtv.isSubgraph" -}}
{{- if eq .Values.role "subgraph" }}true{{ end -}}
{{- end -}}

{{/* subgraph | gateway: the pod's component label; the migration Job's pods say "migration". */}}
{{- define "vtv.component" -}}
{{- .Values.role -}}
{{- end -}}

{{- define "vtv.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "vtv.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "vtv.imageTag" . | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vtv
{{- end -}}

{{/* Every pod of this service, server or migration: NetworkPolicies select these. */}}
{{- define "vtv.podSelector" -}}
app.kubernetes.io/name: {{ include "vtv.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The serving pods only: Deployment, Service, PDB and autoscalers select these. */}}
{{- define "vtv.selectorLabels" -}}
{{ include "vtv.podSelector" . }}
app.kubernetes.io/component: {{ include "vtv.component" . }}
{{- end -}}

{{- define "vtv.imageTag" -}}
{{- .Values.image.tag | default .Values.global.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- define "vtv.image" -}}
{{- $repo := .Values.image.repository -}}
{{- if not $repo -}}
{{- $repo = include "vtv.name" . -}}
{{- with .Values.global.image.registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" .) $repo }}{{ end -}}
{{- end -}}
{{- $ref := printf "%s:%s" $repo (include "vtv.imageTag" .) -}}
{{- with .Values.image.digest }}{{ $ref = printf "%s@%s" $ref . }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{- define "vtv.pullPolicy" -}}
{{- .Values.image.pullPolicy | default .Values.global.image.pullPolicy -}}
{{- end -}}

{{- define "vtv.databaseSecret" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "vtv.fullname" .)) -}}
{{- end -}}

{{- define "vtv.internalAuthSecret" -}}
{{- .Values.global.internalAuth.existingSecret | default (printf "%s-internal-auth" .Release.Name) -}}
{{- end -}}

{{- define "vtv.redisSecret" -}}
{{- .Values.global.redis.existingSecret | default (printf "%s-redis" .Release.Name) -}}
{{- end -}}

{{- define "vtv.serviceSecret" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "vtv.fullname" .)) -}}
{{- end -}}

{{/* Does this subgraph fetch identity's public keys (and may it therefore reach identity)? */}}
{{- define "vtv.isJwksClient" -}}
{{- if and (include "vtv.isSubgraph" .) (has (include "vtv.name" .) .Values.global.identityJwksClients) }}true{{ end -}}
{{- end -}}

{{/* The largest replica count any autoscaler may set (or the fixed count). */}}
{{- define "vtv.maxReplicas" -}}
{{- if .Values.kafkaScaling.enabled -}}{{ .Values.kafkaScaling.maxReplicas }}
{{- else if .Values.autoscaling.enabled -}}{{ .Values.autoscaling.maxReplicas }}
{{- else -}}{{ .Values.replicaCount }}
{{- end -}}
{{- end -}}

{{/* The pod security context of the Pod Security Standard "restricted", shared by server and Job. */}}
{{- define "vtv.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "vtv.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Configuration checks that a schema cannot express; each fails the render with the reason.
*/}}
{{- define "vtv.validate" -}}
{{- $name := include "vtv.name" . -}}
{{- if and (eq .Values.role "gateway") .Values.kafkaScaling.enabled -}}
{{- fail "gateway: it consumes no events, so kafkaScaling does not apply" -}}
{{- end -}}
{{- /* Cluster mode: workers beyond the CPU limit only queue on the CFS quota and add memory. */ -}}
{{- $workers := int (.Values.gateway.workers | default 1) -}}
{{- $cpu := toString (dig "limits" "cpu" "" (.Values.resources | default dict)) -}}
{{- if and (eq .Values.role "gateway") (gt $workers 1) (regexMatch `^[0-9]+(\.[0-9]+)?m?$` $cpu) -}}
{{- $milli := ternary (float64 (trimSuffix "m" $cpu)) (mulf (float64 $cpu) 1000) (hasSuffix "m" $cpu) -}}
{{- if lt $milli (float64 (mul $workers 1000)) -}}
{{- fail (printf "%s: gateway.workers=%d needs resources.limits.cpu of at least %d cores (one per worker), got %s" $name $workers $workers $cpu) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled .Values.kafkaScaling.enabled -}}
{{- fail (printf "%s: autoscaling and kafkaScaling are both enabled; a KEDA ScaledObject owns its own HPA, so set kafkaScaling.cpuTarget instead of autoscaling" $name) -}}
{{- end -}}
{{- if .Values.autoscaling.enabled -}}
{{- if gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas) -}}
{{- fail (printf "%s: autoscaling.minReplicas > maxReplicas" $name) -}}
{{- end -}}
{{- end -}}
{{- if .Values.kafkaScaling.enabled -}}
{{- if not .Values.kafkaScaling.topics -}}
{{- fail (printf "%s: kafkaScaling.enabled needs kafkaScaling.topics" $name) -}}
{{- end -}}
{{- $partitions := 0 -}}
{{- range .Values.kafkaScaling.topics }}{{ $partitions = max $partitions (int .partitions) }}{{ end -}}
{{- if gt (int .Values.kafkaScaling.maxReplicas) $partitions -}}
{{- fail (printf "%s: kafkaScaling.maxReplicas=%d exceeds %d, the most partitions of any topic it consumes; the extra consumers would sit idle" $name (int .Values.kafkaScaling.maxReplicas) $partitions) -}}
{{- end -}}
{{- if gt (int .Values.kafkaScaling.minReplicas) (int .Values.kafkaScaling.maxReplicas) -}}
{{- fail (printf "%s: kafkaScaling.minReplicas > maxReplicas" $name) -}}
{{- end -}}
{{- end -}}
{{- $s := .Values.shutdown -}}
{{- $needed := add (int $s.preStopSleepSeconds) (div (mul 2 (int $s.graceMs)) 1000) 5 -}}
{{- if lt (int $s.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "%s: shutdown.terminationGracePeriodSeconds=%d is shorter than preStop (%ds) + HTTP and consumer drain (2 × %d ms) + 5 s = %ds" $name (int $s.terminationGracePeriodSeconds) (int $s.preStopSleepSeconds) (int $s.graceMs) (int $needed)) -}}
{{- end -}}
{{- if and (include "vtv.isSubgraph" .) (gt (int .Values.database.connectionBudget) 0) -}}
{{- $conns := add (mul (add (int (include "vtv.maxReplicas" .)) 1) (add (int .Values.database.poolSize) 1)) 2 -}}
{{- if gt (int $conns) (int .Values.database.connectionBudget) -}}
{{- fail (printf "%s: up to %d database connections ((%s replicas + 1 surge) × (poolSize %d + 1) + 2) exceed database.connectionBudget=%d" $name (int $conns) (include "vtv.maxReplicas" .) (int .Values.database.poolSize) (int .Values.database.connectionBudget)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
