{{/*
NetworkPolicy of one component. Ingress is denied except:
  - a service's api: from the pods of the listed callers (.values.networkPolicy.allowedCallers, names of
    services or "gateway") of this release, on the gRPC port;
  - the gateway: from .values.networkPolicy.ingressFrom peers (any source when empty), on the HTTP port;
  - whatever .values.networkPolicy.extraIngress adds.
Egress is allowed to DNS, PostgreSQL and NATS (services only), Keycloak, the OpenTelemetry collector
(each as configured in the top-level networkPolicy.egress), the api components of this release, and
extraEgress. Kubelet probes are not subject to NetworkPolicy on common CNIs and need no rule.
*/}}
{{- define "school-lib.networkPolicy" -}}
{{- $np := .values.networkPolicy -}}
{{- $egressTargets := .root.Values.networkPolicy.egress -}}
{{- $release := .root.Release.Name -}}
{{- $ingress := list -}}
{{- if and (eq .kind "service") (eq .component "api") $np.allowedCallers -}}
{{- $callers := dict "key" "app.kubernetes.io/name" "operator" "In" "values" ($np.allowedCallers | uniq | sortAlpha) -}}
{{- $peer := dict "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/instance" $release) "matchExpressions" (list $callers)) -}}
{{- $ingress = append $ingress (dict "from" (list $peer) "ports" (list (dict "port" "grpc" "protocol" "TCP"))) -}}
{{- else if eq .kind "gateway" -}}
{{- $rule := dict "ports" (list (dict "port" "http" "protocol" "TCP")) -}}
{{- with $np.ingressFrom -}}{{- $_ := set $rule "from" . -}}{{- end -}}
{{- $ingress = append $ingress $rule -}}
{{- end -}}
{{- $ingress = concat $ingress ($np.extraIngress | default list) -}}
{{- $targets := list $egressTargets.dns $egressTargets.keycloak $egressTargets.otelCollector -}}
{{- if eq .kind "service" -}}
{{- $targets = concat $targets (list $egressTargets.postgresql $egressTargets.nats) -}}
{{- end -}}
{{- $egress := list -}}
{{- range $t := $targets -}}
{{- $rule := dict "ports" $t.ports -}}
{{- with $t.to -}}{{- $_ := set $rule "to" . -}}{{- end -}}
{{- $egress = append $egress $rule -}}
{{- end -}}
{{- $apis := dict "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/instance" $release "app.kubernetes.io/part-of" "school-platform" "app.kubernetes.io/component" "api")) -}}
{{- $egress = append $egress (dict "to" (list $apis) "ports" (list (dict "port" (include "school-lib.grpcPort" . | int) "protocol" "TCP"))) -}}
{{- $egress = concat $egress ($np.extraEgress | default list) -}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .workloadName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
spec:
  podSelector:
    matchLabels: {{- .selectorLabels | nindent 6 }}
  policyTypes:
    - Ingress
    - Egress
  ingress: {{- toYaml $ingress | nindent 4 }}
  egress: {{- toYaml $egress | nindent 4 }}
{{- end -}}
