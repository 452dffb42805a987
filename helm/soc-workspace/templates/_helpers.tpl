{{- /*
  Names and labels of everything this chart renders, in one place, so templates, tests and
  parent charts agree. Names do not depend on the release (like the jupyterhub chart's): the
  wiring in values.yaml can then refer to them.
*/}}

{{- define "soc-workspace.fullname" -}}
{{- .Values.fullnameOverride | default "soc-workspace" | trunc 40 | trimSuffix "-" -}}
{{- end }}

{{- /* ConfigMap: the hub's drop-in .py files (mounted as jupyterhub_config.d) */}}
{{- define "soc-workspace.hub.fullname" -}}
{{- include "soc-workspace.fullname" . }}-hub
{{- end }}

{{- /* ConfigMap: soc-workspace settings for the hub and the gateway */}}
{{- define "soc-workspace.settings.fullname" -}}
{{- include "soc-workspace.fullname" . }}-settings
{{- end }}

{{- /* ConfigMap: settings and catalogs for user servers */}}
{{- define "soc-workspace.user.fullname" -}}
{{- include "soc-workspace.fullname" . }}-user
{{- end }}

{{- /* ServiceAccount of user servers and Dask pods */}}
{{- define "soc-workspace.user-serviceaccount.fullname" -}}
{{- .Values.serviceAccount.name | default (printf "%s-user" (include "soc-workspace.fullname" .)) -}}
{{- end }}

{{- /* Deployment and ServiceAccount of `soc-workspace catalog watch` */}}
{{- define "soc-workspace.catalog-watch.fullname" -}}
{{- include "soc-workspace.fullname" . }}-catalog-watch
{{- end }}

{{- /* Role + RoleBinding letting the gateway read the settings ConfigMap */}}
{{- define "soc-workspace.gateway-settings-reader.fullname" -}}
{{- include "soc-workspace.fullname" . }}-gateway-settings-reader
{{- end }}

{{- /* PersistentVolumeClaim of a team; call with (list $ "group") */}}
{{- define "soc-workspace.team.fullname" -}}
{{- $root := index . 0 }}{{- $group := index . 1 }}
{{- $team := index $root.Values.teams.groups $group | default dict }}
{{- $team.existingClaim | default (printf "%s-team-%s" (include "soc-workspace.fullname" $root) $group) -}}
{{- end }}

{{- define "soc-workspace.shared.fullname" -}}
{{- .Values.teams.shared.existingClaim | default (printf "%s-shared" (include "soc-workspace.fullname" .)) -}}
{{- end }}

{{- define "soc-workspace.netpol-user-servers.fullname" -}}
{{- include "soc-workspace.fullname" . }}-user-servers
{{- end }}

{{- define "soc-workspace.netpol-dask-clusters.fullname" -}}
{{- include "soc-workspace.fullname" . }}-dask-clusters
{{- end }}

{{- /* PriorityClasses are cluster-wide: the namespace keeps two installs apart */}}
{{- define "soc-workspace.workshop-priority.fullname" -}}
{{- printf "%s-%s-workshop" (include "soc-workspace.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "soc-workspace.workshop-placeholder-priority.fullname" -}}
{{- printf "%s-%s-workshop-placeholder" (include "soc-workspace.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "soc-workspace.workshop-placeholder.fullname" -}}
{{- include "soc-workspace.fullname" . }}-workshop-placeholder
{{- end }}

{{- define "soc-workspace.workshop-quota.fullname" -}}
{{- include "soc-workspace.fullname" . }}-workshop
{{- end }}


{{- /*
  Names of the subcharts' objects, from the subcharts' own helpers (Helm shares named templates
  between a chart and its dependencies), called with the subchart's view of the release: its
  values (merged with its defaults by Helm), the release, its chart name. So fullnameOverride,
  nameOverride and the release name give the names the subcharts really render.
  Call with (list $ "<helper without the chart prefix>").
*/}}
{{- define "soc-workspace.jupyterhub.name" -}}
{{- $root := index . 0 }}
{{- $context := dict "Values" $root.Values.jupyterhub "Release" $root.Release "Chart" (dict "Name" "jupyterhub") "Template" $root.Template }}
{{- include (printf "jupyterhub.%s" (index . 1)) $context -}}
{{- end }}

{{- define "soc-workspace.dask-gateway.name" -}}
{{- $root := index . 0 }}
{{- $context := dict "Values" (index $root.Values "dask-gateway") "Release" $root.Release "Chart" (dict "Name" "dask-gateway") "Template" $root.Template }}
{{- include (printf "dask-gateway.%s" (index . 1)) $context | trim -}}
{{- end }}

{{- /* The gateway instance (its pods' gateway.dask.org/instance label) */}}
{{- define "soc-workspace.dask-gateway.fullname" -}}
{{- include "soc-workspace.dask-gateway.name" (list . "fullname") -}}
{{- end }}

{{- define "soc-workspace.dask-gateway.traefikName" -}}
{{- include "soc-workspace.dask-gateway.name" (list . "traefikName") -}}
{{- end }}

{{- /* The ServiceAccount of the gateway API server (the dask-gateway chart's rbac values) */}}
{{- define "soc-workspace.dask-gateway.serviceAccountName" -}}
{{- $dg := index .Values "dask-gateway" }}
{{- $dg.rbac.gateway.serviceAccountName | default (include "soc-workspace.dask-gateway.name" (list . "apiName")) -}}
{{- end }}

{{- /* The gateway proxy's Service ports: "web" (HTTP API, dashboards) and "tcp" (schedulers),
       which is the web port unless traefik.service.ports.tcp.port sets its own */}}
{{- define "soc-workspace.dask-gateway.webPort" -}}
{{- (index .Values "dask-gateway").traefik.service.ports.web.port | int -}}
{{- end }}

{{- define "soc-workspace.dask-gateway.tcpPort" -}}
{{- $tcp := toString (index .Values "dask-gateway").traefik.service.ports.tcp.port }}
{{- if eq $tcp "web" }}{{ include "soc-workspace.dask-gateway.webPort" . }}{{ else }}{{ $tcp | int }}{{ end -}}
{{- end }}


{{- /* The notebook image as "name:tag", as the jupyterhub and dask-gateway charts write it (a
       digest rides in the tag: "2026.11.1@sha256:...") */}}
{{- define "soc-workspace.notebookImage" -}}
{{- $image := .Values.jupyterhub.singleuser.image }}
{{- $image.name }}:{{ $image.tag }}
{{- end }}


{{- /* Labels: the folder of the template is the component */}}
{{- define "soc-workspace.selectorLabels" -}}
app.kubernetes.io/name: soc-workspace
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "soc-workspace.labels" -}}
{{- $component := .component | default "" }}
{{- with .root }}
{{- include "soc-workspace.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: soc-workspace
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- with $component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}


{{- /* Pods of the jupyterhub chart by component (hub, proxy, singleuser-server), as it and
       KubeSpawner label them */}}
{{- define "soc-workspace.jupyterhubPods" -}}
{{- $root := index . 0 }}
matchLabels:
  app.kubernetes.io/instance: {{ $root.Release.Name | quote }}
matchExpressions:
  - key: app.kubernetes.io/component
    operator: In
    values: {{ rest . | toJson }}
{{- end }}

{{- /* User servers, as labelled by KubeSpawner with the jupyterhub chart's common labels */}}
{{- define "soc-workspace.userServerSelector" -}}
app.kubernetes.io/component: singleuser-server
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{- define "soc-workspace.netpol-jupyterhub-gateway.fullname" -}}
{{- include "soc-workspace.fullname" . }}-jupyterhub-to-gateway
{{- end }}
