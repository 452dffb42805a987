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
  Names of the subcharts' objects, by the subcharts' own rules (their helpers are not loaded
  when the dependencies are absent, as in our tests, so the rules are repeated here):
  - jupyterhub: a string fullnameOverride (default "") is the prefix; "" means no prefix.
  - dask-gateway: fullnameOverride, else "<release>-dask-gateway" (or the release name when it
    already contains "dask-gateway"); the API server is "api-<that>", the proxy "traefik-<that>".
*/}}
{{- define "soc-workspace.jupyterhub.prefix" -}}
{{- $jh := .Values.jupyterhub | default dict }}
{{- $override := $jh.fullnameOverride }}
{{- if kindIs "string" $override }}
{{- if $override }}{{ $override }}-{{ end }}
{{- else if kindIs "invalid" $override }}
{{- /* unset: the jupyterhub chart's default is "" */}}
{{- else }}
{{- $name := $jh.nameOverride | default "jupyterhub" }}
{{- if contains $name .Release.Name }}{{ .Release.Name }}-{{ else }}{{ .Release.Name }}-{{ $name }}-{{ end }}
{{- end }}
{{- end }}

{{- define "soc-workspace.dask-gateway.fullname" -}}
{{- $dg := index .Values "dask-gateway" | default dict }}
{{- if $dg.fullnameOverride }}
{{- $dg.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := $dg.nameOverride | default "dask-gateway" }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "soc-workspace.dask-gateway.apiName" -}}
{{- include "soc-workspace.dask-gateway.fullname" . | printf "api-%s" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "soc-workspace.dask-gateway.traefikName" -}}
{{- include "soc-workspace.dask-gateway.fullname" . | printf "traefik-%s" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- /* The ServiceAccount of the gateway API server (the dask-gateway chart's rbac values) */}}
{{- define "soc-workspace.dask-gateway.serviceAccountName" -}}
{{- $dg := index .Values "dask-gateway" | default dict }}
{{- $rbac := $dg.rbac | default dict }}
{{- $gw := $rbac.gateway | default dict }}
{{- $gw.serviceAccountName | default (include "soc-workspace.dask-gateway.apiName" .) -}}
{{- end }}

{{- /* The port user servers and the hub use for the gateway's traefik proxy (web and tcp) */}}
{{- define "soc-workspace.dask-gateway.traefikPort" -}}
{{- $dg := index .Values "dask-gateway" | default dict }}
{{- $port := 80 }}
{{- with $dg.traefik }}{{ with .service }}{{ with .ports }}{{ with .web }}{{ with .port }}{{ $port = . }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}
{{- $port | int -}}
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


{{- /* User servers, as labelled by KubeSpawner with the jupyterhub chart's common labels */}}
{{- define "soc-workspace.userServerSelector" -}}
app.kubernetes.io/component: singleuser-server
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}
