variable "region" {
  description = "The provider's region (endpoint service names are per region)."
  type        = string
}

variable "cluster_name" {
  type = string
}

variable "vpc_cidr" {
  type = string
}

variable "availability_zones" {
  type = list(string)
}

variable "workers_in_private_subnets" {
  type    = bool
  default = false
}

variable "interface_endpoints" {
  type    = list(string)
  default = []
}
