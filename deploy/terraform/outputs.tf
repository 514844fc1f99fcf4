# What the Helm stage needs (install.md "Outputs"): the bucket, the IRSA role ARNs, the image
# URLs, the cluster metadata, and helm_values, a values.yaml fragment for deploy/helm/layer.

output "helm_values" {
  description = "values.yaml fragment for deploy/helm/layer: `tofu output -raw helm_values > values.aws.yaml`, then helm -f values.aws.yaml -f values.customer.yaml."
  value       = module.helm_values.yaml
}

output "region" {
  description = "AWS region of the install (s3.region)."
  value       = var.region
}

output "bucket_name" {
  description = "S3 bucket for snapshots, history and clickstream (s3.bucket)."
  value       = module.s3.bucket_name
}

output "bucket_arn" {
  value = module.s3.bucket_arn
}

output "gateway_role_arn" {
  description = "IRSA role of the gateway and operator service accounts: read/write of the bucket (serviceAccount.roleArn)."
  value       = module.gateway_role.role_arn
}

output "workers_role_arn" {
  description = "IRSA role for worker pods' service accounts: the payloads prefix of the bucket."
  value       = module.workers_role.role_arn
}

output "dashboard_cost_read_role_arn" {
  description = "IRSA role of the dashboard's cost tab: pricing, Cost Explorer, CloudWatch reads (dashboard.serviceAccount.roleArn)."
  value       = module.dashboard_role.role_arn
}

output "ecr_repository_urls" {
  description = "ECR repository URL by name: gateway, operator, functions (customer function images)."
  value       = module.ecr.repository_urls
}

output "gateway_image" {
  description = "Gateway image repository (gateway.image without the tag)."
  value       = module.ecr.repository_urls["gateway"]
}

output "operator_image" {
  description = "Operator image repository (image.repository)."
  value       = module.ecr.repository_urls["operator"]
}

output "functions_image_repository" {
  description = "Where customer-built function images are pushed."
  value       = module.ecr.repository_urls["functions"]
}

output "cluster_name" {
  description = "EKS cluster name (workerKarpenter.clusterName; aws eks update-kubeconfig --name)."
  value       = local.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint of a fresh cluster; null for an existing one."
  value       = var.create_cluster ? module.eks[0].endpoint : null
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA of a fresh cluster's API; null for an existing one."
  value       = var.create_cluster ? module.eks[0].certificate_authority_data : null
}

output "oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster (IRSA trust)."
  value       = local.oidc_provider_arn
}

output "kubeconfig_command" {
  description = "Points kubectl and helm at the cluster."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${local.cluster_name}"
}

output "vpc_id" {
  value = var.create_cluster ? module.network[0].vpc_id : null
}

output "worker_subnet_ids" {
  description = "Subnets tagged karpenter.sh/discovery=<cluster> where workers launch."
  value       = var.create_cluster ? module.network[0].worker_subnet_ids : []
}

output "karpenter" {
  description = "For the Karpenter chart (serviceAccount IRSA, settings.clusterName, settings.interruptionQueue) and the layer chart's workerKarpenter.nodeRole; null when not created here."
  value = var.create_cluster && var.karpenter.enabled ? {
    controller_role_arn = module.karpenter_controller_role[0].role_arn
    node_role_name      = module.karpenter[0].node_role_name
    interruption_queue  = module.karpenter[0].interruption_queue_name
    namespace           = var.karpenter.namespace
    service_account     = var.karpenter.service_account
  } : null
}

output "load_balancer_controller_role_arn" {
  description = "IRSA role for the AWS Load Balancer Controller chart (serviceAccount.annotations)."
  value       = var.create_cluster && var.load_balancer_controller.enabled ? module.load_balancer_controller_role[0].role_arn : null
}

output "efs_file_system_id" {
  description = "For an EFS CSI StorageClass (parameters.fileSystemId)."
  value       = var.create_cluster && var.enable_efs ? module.efs[0].file_system_id : null
}

output "certificate_arn" {
  description = "ACM certificate of dns.host (manage_public_dns = true)."
  value       = var.manage_public_dns ? module.dns[0].certificate_arn : null
}

output "route53_name_servers" {
  description = "Delegate the created zone to these (manage_public_dns = true with dns.zone_name)."
  value       = var.manage_public_dns ? module.dns[0].name_servers : []
}
