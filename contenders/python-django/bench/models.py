from django.db import models


class World(models.Model):
    randomnumber = models.IntegerField(db_column="randomNumber")

    class Meta:
        db_table = "world"
        managed = False  # bakeoff creates and fills the database


class Fortune(models.Model):
    message = models.TextField()

    class Meta:
        db_table = "fortune"
        managed = False
