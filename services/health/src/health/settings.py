from school_common.settings import GrpcSettings, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "health"
    grpc: GrpcSettings = GrpcSettings(port=50066)
