{{/*
Non-secret settings of a workload, as a flat map of environment variables (YAML). Services read
nested settings from env vars split by "__" (DATABASE__URL → database.url). The same map is the data of
the workload's ConfigMap (long-running components, via envFrom) and is inlined into the migration Job,
which runs as a hook before the ConfigMap exists.
*/}}
{{- define "school-lib.configData" -}}
{{- $v := .root.Values -}}
{{- $data := dict
  "ENVIRONMENT" $v.global.environment
  "SERVICE_NAME" .name
  "LOG_LEVEL" .values.logLevel
  "AUTH__ISSUER_BASE_URL" ($v.keycloak.publicUrl | required "keycloak.publicUrl is required: the public Keycloak URL, the base of every tenant realm's token issuer" | trimSuffix "/")
  "AUTH__JWKS_BASE_URL" (include "school-lib.keycloakInternalUrl" .root)
  "AUTH__REALM_PREFIX" $v.keycloak.realmPrefix
  "AUTH__AUDIENCE" $v.keycloak.audience
  "OTEL_SERVICE_NAME" .name
-}}
{{- if $v.telemetry.otlpEndpoint -}}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" $v.telemetry.otlpEndpoint -}}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_PROTOCOL" $v.telemetry.otlpProtocol -}}
{{- else -}}
{{- $_ := set $data "OTEL_SDK_DISABLED" "true" -}}
{{- end -}}
{{- if eq .kind "service" -}}
{{- $_ := set $data "GRPC__HOST" "0.0.0.0" -}}
{{- $_ := set $data "GRPC__PORT" (include "school-lib.grpcPort" .) -}}
{{- if not $v.nats.existingSecret -}}
{{- $_ := set $data "NATS__URL" ($v.nats.url | required "nats.url is required (or nats.existingSecret)") -}}
{{- end -}}
{{- /* Every service asks identity for its callers' access scopes (school_common.access). */ -}}
{{- $identity := include "school-lib.serviceValues" (dict "root" .root "name" "identity") | fromYaml -}}
{{- if and $identity.enabled $identity.components.api.enabled -}}
{{- $host := printf "%s-identity-api" .fullname | trunc 63 | trimSuffix "-" -}}
{{- $_ := set $data "IDENTITY__TARGET" (printf "%s:%d" $host ($identity.service.port | int)) -}}
{{- end -}}
{{- /* student-record reads attendance's 45-session counter for promotion. */ -}}
{{- if eq .name "student-record" -}}
{{- $attendance := include "school-lib.serviceValues" (dict "root" .root "name" "attendance") | fromYaml -}}
{{- if and $attendance.enabled $attendance.components.api.enabled -}}
{{- $host := printf "%s-attendance-api" .fullname | trunc 63 | trimSuffix "-" -}}
{{- $_ := set $data "ATTENDANCE__TARGET" (printf "%s:%d" $host ($attendance.service.port | int)) -}}
{{- end -}}
{{- end -}}
{{- if eq .name "identity" -}}
{{- $_ := set $data "KEYCLOAK__SERVER_URL" (include "school-lib.keycloakInternalUrl" .root) -}}
{{- $_ := set $data "KEYCLOAK__PUBLIC_URL" ($v.keycloak.publicUrl | trimSuffix "/") -}}
{{- end -}}
{{- else if eq .kind "gateway" -}}
{{- $_ := set $data "GATEWAY__HTTP__HOST" "0.0.0.0" -}}
{{- $_ := set $data "GATEWAY__HTTP__PORT" (include "school-lib.httpPort" .) -}}
{{- $_ := set $data "GATEWAY__HTTP__FORWARDED_ALLOW_IPS" .values.forwardedAllowIps -}}
{{- range $svcName := keys $v.services | sortAlpha -}}
{{- $svc := include "school-lib.serviceValues" (dict "root" $.root "name" $svcName) | fromYaml -}}
{{- if and $svc.enabled $svc.components.api.enabled -}}
{{- $host := printf "%s-%s-api" $.fullname $svcName | trunc 63 | trimSuffix "-" -}}
{{- $key := printf "GATEWAY__SERVICES__%s" ($svcName | replace "-" "_" | upper) -}}
{{- $_ := set $data $key (printf "%s:%d" $host ($svc.service.port | int)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $k, $val := .values.config -}}
{{- $_ := set $data $k (toString $val) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* The ConfigMap of a service or of the gateway. Expects .configData (rendered YAML). */}}
{{- define "school-lib.configMap" -}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .configName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
data: {{- .configData | nindent 2 }}
{{- end -}}

{{/*
Env entries every container gets besides its ConfigMap: pod identity from the downward API (for the
OpenTelemetry resource), the OTel resource attributes with the component, secrets by secretKeyRef, and
the values' extraEnv. .migration true adds the owner-role database URL (migration Job only).
*/}}
{{- define "school-lib.env" -}}
{{- $v := .root.Values -}}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- $attrs := list "service.namespace=school-platform" (printf "service.version=%s" .version) (printf "deployment.environment.name=%s" $v.global.environment) (printf "school.component=%s" .component) "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" "k8s.pod.name=$(K8S_POD_NAME)" "k8s.node.name=$(K8S_NODE_NAME)" -}}
{{- range $k, $val := $v.telemetry.resourceAttributes -}}
{{- $attrs = append $attrs (printf "%s=%s" $k (toString $val)) -}}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- if eq .kind "service" }}
- name: DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .values.database.urlKey }}
{{- if .migration }}
- name: DATABASE__MIGRATION_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .values.database.migrationUrlKey }}
{{- end }}
{{- if $v.nats.existingSecret }}
- name: NATS__URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.nats.existingSecret }}
      key: {{ $v.nats.urlKey }}
{{- end }}
{{- end }}
{{- with .values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
