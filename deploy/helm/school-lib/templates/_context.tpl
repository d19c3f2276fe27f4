{{/*
Workload context. Callers build
  dict "root" $ "name" "<service>" "kind" "service|gateway" "component" "<component>" "values" $merged
(plus "comp" for a service component) and pass it to "school-lib.context", which adds, once:
  fullname, baseName (<fullname>-<name>), workloadName, module, version, image,
  labels / selectorLabels (rendered YAML), configName, serviceAccountName, secretName.
Every resource template then reads these keys instead of recomputing them.
*/}}

{{/* Components a service image can run, and the argument each passes to `python -m <module>`. */}}
{{- define "school-lib.componentArgs" -}}
api: serve
worker: worker
relay: relay
migrate: migrate
{{- end -}}

{{/* Container port of every service component (GRPC__PORT) and of the gateway. */}}
{{- define "school-lib.grpcPort" -}}50051{{- end -}}
{{- define "school-lib.httpPort" -}}8080{{- end -}}

{{- define "school-lib.context" -}}
{{- $fullname := include "school-lib.fullname" .root -}}
{{- $_ := set . "fullname" $fullname -}}
{{- $base := printf "%s-%s" $fullname .name | trunc 63 | trimSuffix "-" -}}
{{- $_ := set . "baseName" $base -}}
{{- if eq .kind "gateway" -}}
{{- $_ := set . "workloadName" $base -}}
{{- else -}}
{{- $_ := set . "workloadName" (printf "%s-%s" $base .component | trunc 63 | trimSuffix "-") -}}
{{- end -}}
{{- $_ := set . "module" (.name | replace "-" "_") -}}
{{- $imageCtx := dict "root" .root "image" .values.image -}}
{{- $_ := set . "version" (include "school-lib.imageTag" $imageCtx) -}}
{{- $_ := set . "image" (include "school-lib.image" $imageCtx) -}}
{{- $_ := set . "labels" (include "school-lib.labels" .) -}}
{{- $_ := set . "selectorLabels" (include "school-lib.selectorLabels" .) -}}
{{- $_ := set . "configName" (printf "%s-config" $base | trunc 63 | trimSuffix "-") -}}
{{- $sa := .values.serviceAccount -}}
{{- if $sa.create -}}
{{- $_ := set . "serviceAccountName" ($sa.name | default $base) -}}
{{- else -}}
{{- $_ := set . "serviceAccountName" ($sa.name | default "default") -}}
{{- end -}}
{{- if eq .kind "service" -}}
{{- $_ := set . "secretName" (.values.database.existingSecret | default (printf "%s-database" $base)) -}}
{{- end -}}
{{- end -}}

{{/* Merged values of one service: workloadDefaults, then serviceDefaults, then services.<name>. */}}
{{- define "school-lib.serviceValues" -}}
{{- $v := .root.Values -}}
{{- $defaults := include "school-lib.merge" (dict "base" $v.workloadDefaults "over" $v.serviceDefaults) | fromYaml -}}
{{- include "school-lib.merge" (dict "base" $defaults "over" (index $v.services .name)) -}}
{{- end -}}

{{/* Merged values of the gateway: workloadDefaults, then gateway. */}}
{{- define "school-lib.gatewayValues" -}}
{{- include "school-lib.merge" (dict "base" .root.Values.workloadDefaults "over" .root.Values.gateway) -}}
{{- end -}}

{{/* In-cluster Keycloak base URL (JWKS): explicit, else the operator-managed Service. */}}
{{- define "school-lib.keycloakInternalUrl" -}}
{{- $kc := .Values.keycloak -}}
{{- if $kc.internalUrl -}}
{{- $kc.internalUrl | trimSuffix "/" -}}
{{- else if $kc.operator.enabled -}}
{{- $host := printf "%s-keycloak-service.%s.svc" (include "school-lib.fullname" .) .Release.Namespace -}}
{{- if $kc.operator.httpEnabled -}}
{{- printf "http://%s:8080" $host -}}
{{- else -}}
{{- printf "https://%s:8443" $host -}}
{{- end -}}
{{- else -}}
{{- fail "keycloak.internalUrl is required unless keycloak.operator.enabled is true" -}}
{{- end -}}
{{- end -}}
