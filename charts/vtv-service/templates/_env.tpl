{{/*
The process environment. Names are the ones each service's config.ts (zod) reads; test/k8s checks that
every name set here is one the service knows.
*/}}
{{- define "vtv.env" -}}
{{- $name := include "vtv.name" . -}}
{{- $g := .Values.global -}}
- name: NODE_ENV
  value: {{ $g.environment | quote }}
- name: PORT
  value: {{ .Values.port | quote }}
- name: HOST
  value: "0.0.0.0"
- name: LOG_LEVEL
  value: {{ .Values.logLevel | default $g.logLevel | quote }}
- name: SHUTDOWN_GRACE_MS
  value: {{ .Values.shutdown.graceMs | quote }}
- name: INTERNAL_AUTH_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "vtv.internalAuthSecret" . }}
      key: {{ $g.internalAuth.key }}
{{- /* Subgraphs: caches and fast gates. The gateway: rate-limit counters shared by its replicas. */}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "vtv.redisSecret" . }}
      key: {{ $g.redis.urlKey }}
{{- if include "vtv.isSubgraph" . }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "vtv.databaseSecret" . }}
      key: {{ .Values.database.urlKey }}
- name: DATABASE_POOL_SIZE
  value: {{ .Values.database.poolSize | quote }}
{{- if $g.kafka.existingSecret }}
- name: KAFKA_BROKERS
  valueFrom:
    secretKeyRef:
      name: {{ $g.kafka.existingSecret }}
      key: {{ $g.kafka.brokersKey }}
{{- else }}
- name: KAFKA_BROKERS
  value: {{ required "global.kafka.brokers (or global.kafka.existingSecret) is required" $g.kafka.brokers | quote }}
{{- end }}
{{- with $g.kafka.eventsNamespace }}
- name: EVENTS_NAMESPACE
  value: {{ . | quote }}
{{- end }}
{{- if include "vtv.isJwksClient" . }}
- name: IDENTITY_JWKS_URL
  value: {{ printf "http://%s:%d/.well-known/jwks.json" (include "vtv.peerHost" (dict "root" . "name" "identity")) (int .Values.port) | quote }}
{{- end }}
{{- else }}
- name: SUPERGRAPH_PATH
  value: {{ .Values.gateway.supergraphPath | quote }}
- name: GATEWAY_WORKERS
  value: {{ .Values.gateway.workers | quote }}
- name: JWKS_URL
  value: {{ printf "http://%s:%d/.well-known/jwks.json" (include "vtv.peerHost" (dict "root" . "name" "identity")) (int .Values.port) | quote }}
{{- with .Values.gateway.subgraphs }}
{{- /* One name=url pair per subgraph it routes to: the platform's five and any scaffolded one alike. */}}
{{- $urls := list }}
{{- range . }}
{{- $urls = append $urls (printf "%s=http://%s:%d/graphql" . (include "vtv.peerHost" (dict "root" $ "name" .)) (int $.Values.port)) }}
{{- end }}
- name: SUBGRAPH_URLS
  value: {{ join "," $urls | quote }}
{{- end }}
{{- end }}
{{- range .Values.secrets.env }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "vtv.serviceSecret" $ }}
      key: {{ .name }}
      optional: {{ or .optional (ne $g.environment "production") }}
{{- end }}
- name: OTEL_SERVICE_NAME
  value: {{ $name | quote }}
{{- with $g.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=vtv,service.version=%s,deployment.environment.name=%s,k8s.namespace.name=$(K8S_NAMESPACE),k8s.pod.name=$(K8S_POD_NAME),k8s.node.name=$(K8S_NODE_NAME)" (include "vtv.imageTag" .) $g.environment | quote }}
{{- range $k, $v := .Values.env }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
